#include "commands/relay/leader_session.hpp"

#include <fmt/format.h>
#include <pqxx/connection_base>
#include <pqxx/nontransaction>

#include "core/errors.hpp"

namespace cqrs::commands::relay {

namespace {

// Two-key advisory locks: the first key says "a relay", the second which one. The migrations use
// a one-key lock, which lives in a separate key space.
constexpr const char* try_lock_sql = "SELECT pg_try_advisory_lock(1668379251, hashtext($1))";

constexpr const char* load_sql = "SELECT xid::text, seq FROM relay_checkpoints WHERE relay_name = $1 AND topic = $2";

// Upsert that never moves backwards: a stale writer cannot undo a newer checkpoint.
constexpr const char* save_sql =
    "INSERT INTO relay_checkpoints AS c (relay_name, topic, xid, seq) VALUES ($1, $2, $3::text::xid8, $4)"
    " ON CONFLICT (relay_name, topic) DO UPDATE SET xid = excluded.xid, seq = excluded.seq, updated_at = now()"
    " WHERE (c.xid, c.seq) < (excluded.xid, excluded.seq)";

}  // namespace

leader_session::leader_session(std::string url, std::string relay_name, std::string topic)
    : relay_name_(std::move(relay_name)), topic_(std::move(topic)), connection_(std::move(url)) {}

leader_session::~leader_session() = default;

bool leader_session::try_acquire() {
  if (leader_) return true;
  try {
    pqxx::nontransaction tx(connection_.get());
    leader_ = tx.exec_params1(try_lock_sql, relay_name_ + "/" + topic_)[0].as<bool>();
    return leader_;
  } catch (...) {
    release();
    throw core::detail::to_store_error(std::current_exception(), core::statement_effect::none_on_failure);
  }
}

template <typename Work>
void leader_session::while_leading(const char* what, Work&& work) {
  // A closed session has lost the lock; get() would silently open a new one without it.
  if (!leader_ || !connection_.is_open()) throw leadership_lost(fmt::format("{}: not the leader", what));
  try {
    pqxx::nontransaction tx(connection_.get());
    work(tx);
  } catch (const std::exception& e) {
    // Whatever broke, this session can no longer prove it holds the lock.
    release();
    throw leadership_lost(fmt::format("{}: {}", what, e.what()));
  }
}

std::optional<core::log_position> leader_session::load_checkpoint() {
  std::optional<core::log_position> found;
  while_leading("load checkpoint", [&](pqxx::nontransaction& tx) {
    const auto rows = tx.exec_params(load_sql, relay_name_, topic_);
    if (!rows.empty()) found = core::log_position{rows[0][0].as<std::uint64_t>(), rows[0][1].as<std::uint64_t>()};
  });
  return found;
}

void leader_session::save_checkpoint(core::log_position position) {
  while_leading("save checkpoint", [&](pqxx::nontransaction& tx) {
    tx.exec_params0(save_sql, relay_name_, topic_, std::to_string(position.xid()),
                    static_cast<std::int64_t>(position.seq()));
  });
}

void leader_session::heartbeat() {
  while_leading("heartbeat", [](pqxx::nontransaction& tx) { tx.exec("SELECT 1"); });
}

void leader_session::release() noexcept {
  leader_ = false;
  connection_.reset();  // ending the session releases the lock
}

}  // namespace cqrs::commands::relay
