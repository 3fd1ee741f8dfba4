#include "core/log_tail.hpp"

#include <pqxx/connection_base>
#include <pqxx/except>
#include <pqxx/notification>

#include "core/commit_notifier.hpp"

namespace cqrs::core {

class log_tail::receiver : public pqxx::notification_receiver {
 public:
  explicit receiver(pqxx::connection_base& connection)
      : pqxx::notification_receiver(connection, std::string(commit_channel)) {}

  void operator()(const std::string&, int) override { notified = true; }

  bool notified = false;
};

log_tail::log_tail(std::string url) : connection_(std::move(url)) {}

log_tail::~log_tail() { receiver_.reset(); }

bool log_tail::listen() {
  if (receiver_ && connection_.is_open()) return false;
  // The receiver goes before the connection it is registered with.
  receiver_.reset();
  connection_.reset();
  receiver_ = std::make_unique<receiver>(connection_.get());
  return true;
}

bool log_tail::wait(std::chrono::milliseconds timeout) {
  try {
    if (listen()) return true;
    receiver_->notified = false;
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    connection_.get().await_notification(static_cast<long>(micros / 1000000), static_cast<long>(micros % 1000000));
    return receiver_->notified;
  } catch (const pqxx::broken_connection&) {
    // Notifications may be lost with the session: listen again and let the caller read.
    receiver_.reset();
    connection_.reset();
    return true;
  } catch (const pqxx::pqxx_exception&) {
    throw detail::to_store_error(std::current_exception(), statement_effect::none_on_failure);
  }
}

}  // namespace cqrs::core
