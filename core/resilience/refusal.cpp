#include "core/resilience/refusal.hpp"

namespace cqrs::core::resilience {

std::string_view to_string(refusal_reason reason) {
  switch (reason) {
    case refusal_reason::circuit_open: return "circuit_open";
    case refusal_reason::bulkhead_full: return "bulkhead_full";
    case refusal_reason::bulkhead_timeout: return "bulkhead_timeout";
  }
  return "unknown";
}

std::int64_t retry_after_seconds(const refusal& r) {
  const auto ms = r.retry_after.count();
  return ms <= 1000 ? 1 : (ms + 999) / 1000;
}

}  // namespace cqrs::core::resilience
