#pragma once

// Waiting for new events without busy polling: LISTENs on the commit channel (commit_notifier)
// on its own connection. Use it between reads of the global log:
//
//   for (;;) {
//     auto batch = store.read_all(position, 500).value();
//     if (batch.events.empty()) { tail.wait(100ms); continue; }
//     ...; position = batch.next;
//   }
//
// The timeout is the polling fallback that keeps readers correct when a notification is lost or
// arrives before the event is below the readers' watermark. One thread at a time, like the
// connection it owns.

#include <chrono>
#include <memory>
#include <string>

#include "core/pg_connection.hpp"

namespace cqrs::core {

class log_tail {
 public:
  explicit log_tail(std::string url);
  ~log_tail();
  log_tail(const log_tail&) = delete;
  log_tail& operator=(const log_tail&) = delete;

  // Returns true when woken by a notification, or at once when (re)starting to listen (anything
  // may have been missed before); false when `timeout` passed quietly. Throws store_error when
  // PostgreSQL cannot be reached.
  bool wait(std::chrono::milliseconds timeout);

 private:
  class receiver;

  bool listen();

  pg_connection connection_;
  std::unique_ptr<receiver> receiver_;  // destroyed before the connection it listens on
};

}  // namespace cqrs::core
