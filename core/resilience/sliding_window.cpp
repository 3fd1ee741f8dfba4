#include "core/resilience/sliding_window.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace cqrs::core::resilience {

namespace {

std::int64_t second_of(time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

sliding_window::sliding_window(window_type type, std::uint32_t size) : type_(type), size_(size) {
  if (size == 0) throw std::invalid_argument("a sliding window needs a size of at least 1");
  buckets_.resize(size);
}

void sliding_window::drop(bucket& b) {
  totals_.calls -= b.calls;
  totals_.failures -= b.failures;
  totals_.slow -= b.slow;
  b = bucket{};
}

// Empties the buckets of the seconds between the newest one held and `second`, which reuse
// their slots; at most one pass over the ring however long the window stayed idle.
void sliding_window::advance_to(std::int64_t second) {
  if (!started_) {
    head_second_ = second;
    started_ = true;
    return;
  }
  if (second <= head_second_) return;  // the same second (a steady clock never goes back)
  const std::int64_t steps = std::min<std::int64_t>(second - head_second_, size_);
  for (std::int64_t s = 1; s <= steps; ++s) drop(buckets_[static_cast<std::size_t>((head_second_ + s) % size_)]);
  head_second_ = second;
}

window_totals sliding_window::record(bool failed, bool slow, time_point now) {
  bucket* b = nullptr;
  if (type_ == window_type::count_based) {
    b = &buckets_[next_ % size_];
    drop(*b);
    ++next_;
  } else {
    advance_to(second_of(now));
    b = &buckets_[static_cast<std::size_t>(head_second_ % size_)];
  }
  b->calls += 1;
  b->failures += failed ? 1 : 0;
  b->slow += slow ? 1 : 0;
  totals_.calls += 1;
  totals_.failures += failed ? 1 : 0;
  totals_.slow += slow ? 1 : 0;
  return totals_;
}

window_totals sliding_window::totals(time_point now) {
  if (type_ == window_type::time_based) advance_to(second_of(now));
  return totals_;
}

void sliding_window::reset() {
  std::fill(buckets_.begin(), buckets_.end(), bucket{});
  totals_ = {};
  next_ = 0;
  started_ = false;
}

}  // namespace cqrs::core::resilience
