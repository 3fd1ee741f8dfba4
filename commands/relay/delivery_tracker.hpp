#pragma once

// Which produced events Kafka has acknowledged, in log order, and so how far the checkpoint may
// go: the furthest position such that it and everything before it are confirmed.
//
// The relay's thread enqueues events in log order and takes the confirmed prefix; librdkafka's
// delivery reports (on the producer's poll thread) only mark a ticket and wake a waiter. A failed
// delivery is never confirmed, so nothing at or after it can ever reach the checkpoint: the relay
// sees failure(), drops the producer and starts again from the checkpoint.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/events.hpp"

namespace cqrs::commands::relay {

using ticket = std::uint64_t;

// Where Kafka stored a message, from its delivery report (-1: not known).
struct kafka_place {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

struct confirmed_event {
  core::log_position position;
  core::timestamp recorded_at;
  std::chrono::system_clock::time_point acked_at;  // when the delivery report arrived
  kafka_place place;                               // compared with earlier ones: see topic_identity
};

class delivery_tracker {
 public:
  delivery_tracker() = default;
  delivery_tracker(const delivery_tracker&) = delete;
  delivery_tracker& operator=(const delivery_tracker&) = delete;

  // Positions must come in increasing log order. Returns the ticket to pass with the message.
  ticket enqueue(core::log_position position, core::timestamp recorded_at);
  // Takes back the last ticket, whose message librdkafka refused (so no report can come for it).
  void cancel_last() noexcept;

  // From delivery reports: cheap, never throw. Unknown tickets are ignored.
  void delivered(ticket id, kafka_place place = {}) noexcept;
  void failed(ticket id, const char* reason) noexcept;
  // A failure not tied to one message (librdkafka's fatal error).
  void fail(const char* reason) noexcept;

  // Removes and returns the confirmed prefix, in log order.
  std::vector<confirmed_event> take_confirmed();

  // The first failure reported, if any.
  std::optional<std::string> failure() const;
  std::size_t in_flight() const;
  std::optional<core::timestamp> oldest_in_flight() const;

  // Waits until a delivery report or a failure arrives, or `limit` passes.
  void wait_for_progress(std::chrono::milliseconds limit);

 private:
  struct entry {
    core::log_position position;
    core::timestamp recorded_at;
    std::chrono::system_clock::time_point acked_at{};
    kafka_place place;
    bool delivered = false;
  };

  void record_failure(const char* reason);
  entry* find(ticket id);

  mutable std::mutex mutex_;
  std::condition_variable progress_;
  std::deque<entry> entries_;  // entries_[0] has ticket first_
  ticket first_ = 0;
  std::uint64_t reports_ = 0;  // delivery reports and failures so far, for wait_for_progress
  std::optional<std::string> failure_;
};

}  // namespace cqrs::commands::relay
