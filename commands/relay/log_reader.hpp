#pragma once

// Reads the global log ahead of the relay on a thread of its own, so that PostgreSQL works on the
// next batch while the relay produces the current one. Batches come out in log order through a
// bounded queue (at most `depth` batches read ahead: memory stays bounded however far behind
// the relay is).
//
// The reader uses the store's gap-free read_all, and waits for commits with core::log_tail
// (LISTEN, with the polling fallback `poll`) when it has caught up.
//
// Its connections belong to its thread. A PostgreSQL failure stops the reader; next() rethrows it.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/events.hpp"

namespace cqrs::commands::relay {

class log_reader {
 public:
  struct settings {
    std::string pg_url;
    std::size_t batch = 2000;
    std::chrono::milliseconds poll{100};
    std::size_t depth = 4;
  };

  log_reader(settings options, core::log_position after);
  ~log_reader();
  log_reader(const log_reader&) = delete;
  log_reader& operator=(const log_reader&) = delete;

  // The next batch in log order (never empty), waiting at most `limit`; nothing if none came.
  // Rethrows the reader's failure (core::store_error).
  std::optional<std::vector<core::recorded_event>> next(std::chrono::milliseconds limit);

  // Discards what was read ahead and reads on after `position`.
  void restart(core::log_position position);

 private:
  struct read_request {
    core::log_position after;
    std::uint64_t generation = 0;
  };

  void run(const std::stop_token& stop);
  void read_ahead(const std::stop_token& stop);
  std::optional<read_request> wait_for_room(const std::stop_token& stop);
  void deliver(core::log_batch batch, std::uint64_t generation);

  settings settings_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::deque<std::vector<core::recorded_event>> ready_;
  core::log_position position_;  // where reading goes on
  std::uint64_t generation_ = 0;  // bumped by restart(): batches of an older one are dropped
  std::exception_ptr failure_;
  std::jthread thread_;  // last: starts once everything above exists
};

}  // namespace cqrs::commands::relay
