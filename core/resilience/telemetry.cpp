#include "core/resilience/telemetry.hpp"

#include <utility>

namespace cqrs::core::resilience {

std::string_view to_string(circuit_state state) {
  switch (state) {
    case circuit_state::closed: return "closed";
    case circuit_state::open: return "open";
    case circuit_state::half_open: return "half_open";
  }
  return "unknown";
}

std::string_view to_string(call_outcome outcome) {
  switch (outcome) {
    case call_outcome::successful: return "successful";
    case call_outcome::failed: return "failed";
    case call_outcome::slow: return "slow";
    case call_outcome::not_permitted: return "not_permitted";
    case call_outcome::ignored: return "ignored";
  }
  return "unknown";
}

telemetry::telemetry(std::string name, metrics_registry& registry, const logger& log, std::uint32_t max_attempts)
    : name_(std::move(name)), log_(log.child("resilience")) {
  const metric_labels by_name{{"name", name_}};
  const auto with = [&](std::string key, std::string_view value) {
    auto labels = by_name;
    labels.emplace_back(std::move(key), std::string(value));
    return labels;
  };
  for (std::size_t i = 0; i < calls_.size(); ++i) {
    calls_[i] = &registry.make_counter("cqrs_resilience_calls_total", "Calls through a resilience instance, by outcome",
                                       with("outcome", to_string(static_cast<call_outcome>(i))));
  }
  for (std::size_t i = 0; i < states_.size(); ++i) {
    states_[i] = &registry.make_gauge("cqrs_resilience_circuit_state", "1 for the breaker's current state, 0 for the others",
                                      with("state", to_string(static_cast<circuit_state>(i))));
  }
  failure_rate_ = &registry.make_gauge("cqrs_resilience_failure_rate",
                                       "Failed calls in the breaker's window, percent (-1: fewer than the minimum calls)", by_name);
  slow_rate_ = &registry.make_gauge("cqrs_resilience_slow_call_rate",
                                    "Slow calls in the breaker's window, percent (-1: fewer than the minimum calls)", by_name);
  bulkhead_available_ = &registry.make_gauge("cqrs_resilience_bulkhead_available", "Free call slots of the bulkhead", by_name);
  bulkhead_queued_ = &registry.make_gauge("cqrs_resilience_bulkhead_queued", "Calls waiting for a bulkhead slot", by_name);
  bulkhead_rejected_ = &registry.make_counter("cqrs_resilience_bulkhead_rejected_total", "Calls refused by the bulkhead", by_name);
  for (std::uint32_t attempt = 2; attempt <= (max_attempts < 2 ? 2 : max_attempts); ++attempt) {
    retries_.push_back(&registry.make_counter("cqrs_resilience_retries_total", "Attempts after the first, by attempt number",
                                              with("attempt", std::to_string(attempt))));
  }
  state(circuit_state::closed);
  rates(-1, -1);
}

void telemetry::state(circuit_state current) noexcept {
  for (std::size_t i = 0; i < states_.size(); ++i) states_[i]->set(i == static_cast<std::size_t>(current) ? 1 : 0);
}

void telemetry::transition(circuit_state from, circuit_state to) const {
  // Opening means calls are being refused: a warning; recovering is news, not a problem.
  if (to == circuit_state::open) {
    log_.warn("circuit breaker state change", {{"name", name_}, {"from", to_string(from)}, {"to", to_string(to)}});
  } else {
    log_.info("circuit breaker state change", {{"name", name_}, {"from", to_string(from)}, {"to", to_string(to)}});
  }
}

void telemetry::rates(double failure_rate, double slow_rate) noexcept {
  failure_rate_->set(failure_rate);
  slow_rate_->set(slow_rate);
}

void telemetry::bulkhead(std::uint32_t available, std::uint32_t queued) noexcept {
  bulkhead_available_->set(available);
  bulkhead_queued_->set(queued);
}

void telemetry::retry(std::uint32_t attempt) noexcept {
  if (attempt < 2) return;
  const std::size_t i = attempt - 2 < retries_.size() ? attempt - 2 : retries_.size() - 1;
  retries_[i]->increment();
}

}  // namespace cqrs::core::resilience
