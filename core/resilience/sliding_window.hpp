#pragma once

// The circuit breaker's memory of recent calls: either the last N calls (count-based) or the
// calls of the last N seconds (time-based, one bucket per second), as in resilience4j. Both keep
// running totals, so recording a call and reading the rates cost O(1) (amortised, for the time
// window: a bucket is emptied once when its second comes round again).
//
// Not thread-safe: the breaker guards its window with its lock.

#include <cstdint>
#include <vector>

#include "core/resilience/clock.hpp"

namespace cqrs::core::resilience {

enum class window_type : std::uint8_t { count_based, time_based };

struct window_totals {
  std::uint32_t calls = 0;
  std::uint32_t failures = 0;
  std::uint32_t slow = 0;  // slow calls, failed or not

  // Percentages (0-100); 0 for an empty window.
  double failure_rate() const { return calls == 0 ? 0.0 : 100.0 * failures / calls; }
  double slow_rate() const { return calls == 0 ? 0.0 : 100.0 * slow / calls; }
};

class sliding_window {
 public:
  // `size`: calls for a count-based window, seconds for a time-based one (at least 1).
  sliding_window(window_type type, std::uint32_t size);

  window_totals record(bool failed, bool slow, time_point now);
  // The totals as of `now` (a time window forgets the seconds that have passed out of it).
  window_totals totals(time_point now);
  void reset();

  window_type type() const { return type_; }
  std::uint32_t size() const { return size_; }

 private:
  struct bucket {
    std::uint32_t calls = 0;
    std::uint32_t failures = 0;
    std::uint32_t slow = 0;
  };

  void drop(bucket& b);
  void advance_to(std::int64_t second);

  window_type type_;
  std::uint32_t size_;
  std::vector<bucket> buckets_;
  window_totals totals_;
  std::uint64_t next_ = 0;        // count window: the slot the next call overwrites
  std::int64_t head_second_ = 0;  // time window: the newest second buckets_ holds
  bool started_ = false;          // time window: head_second_ is set
};

}  // namespace cqrs::core::resilience
