#pragma once

// A call the resilience layer did not run (or did not run again) is answered with a refusal: an
// expected outcome, returned as a value, never thrown. Callers park the work or answer
// 503 + Retry-After (retry_after_seconds).

#include <chrono>
#include <cstdint>
#include <string_view>

namespace cqrs::core::resilience {

enum class refusal_reason : std::uint8_t {
  circuit_open,      // the breaker is open (or half-open with every probe taken)
  bulkhead_full,     // every call slot and every queue place is taken
  bulkhead_timeout,  // queued for the bulkhead's maximum wait without getting a slot
};

std::string_view to_string(refusal_reason reason);

struct refusal {
  refusal_reason reason;
  // When trying again may succeed: the rest of the breaker's wait in open, or the bulkhead's
  // maximum wait. Never negative.
  std::chrono::milliseconds retry_after{0};
};

// Whole seconds for an HTTP Retry-After header: rounded up, at least 1.
std::int64_t retry_after_seconds(const refusal& r);

}  // namespace cqrs::core::resilience
