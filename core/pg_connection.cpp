#include "core/pg_connection.hpp"

#include <thread>

#include <pqxx/connection>

namespace cqrs::core {

namespace {

void delete_connection(pqxx::connection_base* connection) { delete static_cast<pqxx::connection*>(connection); }

}  // namespace

void run_with_retries(const retry_policy& policy, statement_effect effect, const std::function<void()>& attempt,
                      const std::function<void(const store_error&)>& after_failure) {
  auto backoff = policy.first_backoff;
  for (int number = 1;; ++number) {
    try {
      attempt();
      return;
    } catch (...) {
      // Rethrows anything that is not a database failure unchanged.
      store_error failure = detail::to_store_error(std::current_exception(), effect);
      if (after_failure) after_failure(failure);
      if (!failure.retryable() || number >= policy.max_attempts) throw failure;
    }
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

pg_connection::pg_connection(std::string url, preparer prepare, retry_policy retry)
    : url_(std::move(url)), prepare_(std::move(prepare)), retry_(retry), connection_(nullptr, delete_connection) {}

pg_connection::~pg_connection() = default;

namespace {

// Reads what the server sent since the last statement, without waiting: a connection the server
// closed while idle (a restart, pg_terminate_backend, an idle timeout) shows here, before a
// statement is sent on it. Otherwise the failure would surface in the next statement, where a
// write cannot tell "never sent" from "sent and maybe committed" and is reported in doubt. The
// server's goodbye (a FATAL message, then the end of the stream) takes two reads to see whole.
bool still_alive(pqxx::connection_base& connection) noexcept {
  try {
    connection.get_notifs();
    connection.get_notifs();
    return connection.is_open();
  } catch (...) {
    return false;
  }
}

}  // namespace

pqxx::connection_base& pg_connection::get() {
  if (connection_ && connection_->is_open()) return *connection_;
  // A fresh connection rather than libpqxx's silent reactivation: session state is then exactly
  // what the preparer sets up, and nothing survives from a session that broke.
  connection_.reset();
  try {
    connection_ptr fresh(new pqxx::connection(url_), delete_connection);
    if (prepare_) prepare_(*fresh);
    connection_ = std::move(fresh);
  } catch (...) {
    throw detail::to_store_error(std::current_exception(), statement_effect::none_on_failure);
  }
  return *connection_;
}

void pg_connection::run(statement_effect effect, const work& w) {
  // Here and not in get(): work given to run() does not depend on the session it runs in (it
  // would run on a new one after a failure anyway), while a caller of get() may (a relay's
  // advisory lock lives and dies with its session, and must see it die).
  if (connection_ && connection_->is_open() && !still_alive(*connection_)) connection_.reset();
  run_with_retries(
      retry_, effect, [&] { w(get()); },
      [&](const store_error& failure) {
        if (failure.kind() == failure_kind::connection || failure.kind() == failure_kind::in_doubt) reset();
      });
}

bool pg_connection::is_open() const noexcept { return connection_ && connection_->is_open(); }

void pg_connection::reset() noexcept { connection_.reset(); }

}  // namespace cqrs::core
