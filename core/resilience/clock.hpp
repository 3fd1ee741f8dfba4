#pragma once

// The time source of the resilience library. Breakers and retries read time only through a
// `clock`, so tests drive every transition with a manual_clock instead of sleeping.

#include <atomic>
#include <chrono>

namespace cqrs::core::resilience {

using time_point = std::chrono::steady_clock::time_point;
using duration = std::chrono::steady_clock::duration;

class clock {
 public:
  virtual ~clock() = default;
  virtual time_point now() const noexcept = 0;
};

// The real, monotonic time.
class steady_clock_source final : public clock {
 public:
  time_point now() const noexcept override { return std::chrono::steady_clock::now(); }
};

// Time that moves only when told to; safe to read and advance from several threads.
class manual_clock final : public clock {
 public:
  // Starts well after the epoch, so "now minus a window" never underflows.
  explicit manual_clock(time_point start = time_point{} + std::chrono::hours(24))
      : ticks_(start.time_since_epoch().count()) {}

  time_point now() const noexcept override { return time_point{duration{ticks_.load(std::memory_order_acquire)}}; }
  void advance(duration by) noexcept { ticks_.fetch_add(by.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<duration::rep> ticks_;
};

}  // namespace cqrs::core::resilience
