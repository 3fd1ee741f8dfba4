#pragma once

// What a resilience instance shows: Prometheus series in core::metrics_registry and one log line
// per breaker state change (component=resilience name=... from=... to=...). Series, per instance
// (label name=<instance>):
//   cqrs_resilience_calls_total{outcome}     successful, failed, slow, not_permitted, ignored
//   cqrs_resilience_circuit_state{state}     closed, open, half_open: 1 for the current, 0 else
//   cqrs_resilience_failure_rate             percent over the breaker's window (-1: too few calls)
//   cqrs_resilience_slow_call_rate           percent over the breaker's window (-1: too few calls)
//   cqrs_resilience_bulkhead_available       free call slots
//   cqrs_resilience_bulkhead_queued          calls waiting for a slot
//   cqrs_resilience_bulkhead_rejected_total  calls refused by the bulkhead
//   cqrs_resilience_retries_total{attempt}   attempts after the first, by number (2, 3, ...)
// Updates are atomics (the registry's metrics are lock-free), so the hot path takes no lock here.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::core::resilience {

enum class circuit_state : std::uint8_t { closed = 0, open = 1, half_open = 2 };
std::string_view to_string(circuit_state state);

// How one call ended, as the calls_total series counts it. A slow call that failed counts as
// failed; `ignored` is a call the classifier said proves nothing either way.
enum class call_outcome : std::uint8_t { successful, failed, slow, not_permitted, ignored };
std::string_view to_string(call_outcome outcome);

class telemetry {
 public:
  telemetry(std::string name, metrics_registry& registry, const logger& log, std::uint32_t max_attempts);
  telemetry(const telemetry&) = delete;
  telemetry& operator=(const telemetry&) = delete;

  const std::string& name() const { return name_; }

  void call(call_outcome outcome) noexcept { calls_[static_cast<std::size_t>(outcome)]->increment(); }
  void state(circuit_state current) noexcept;
  // Logs the change; the breaker calls it once per transition, outside its lock.
  void transition(circuit_state from, circuit_state to) const;
  // Rates in percent; negative while the window holds fewer than the minimum calls.
  void rates(double failure_rate, double slow_rate) noexcept;
  void bulkhead(std::uint32_t available, std::uint32_t queued) noexcept;
  void bulkhead_rejected() noexcept { bulkhead_rejected_->increment(); }
  // `attempt` >= 2; attempts past the configured maximum count under the last label.
  void retry(std::uint32_t attempt) noexcept;

 private:
  std::string name_;
  logger log_;
  std::array<counter*, 5> calls_{};
  std::array<gauge*, 3> states_{};
  gauge* failure_rate_;
  gauge* slow_rate_;
  gauge* bulkhead_available_;
  gauge* bulkhead_queued_;
  counter* bulkhead_rejected_;
  std::vector<counter*> retries_;  // [0] is attempt 2
};

}  // namespace cqrs::core::resilience
