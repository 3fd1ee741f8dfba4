#include "core/resilience/pipeline.hpp"

#include <thread>

namespace cqrs::core::resilience {

pipeline::pipeline(std::string name, instance_config config, metrics_registry& registry, const logger& log,
                   std::shared_ptr<const clock> clock, sleeper sleep, std::uint64_t jitter_seed)
    : config_(config),
      clock_(clock ? std::move(clock) : std::make_shared<steady_clock_source>()),
      sleep_(sleep ? std::move(sleep) : sleeper([](duration d) { std::this_thread::sleep_for(d); })),
      telemetry_(std::move(name), registry, log, config.retry.max_attempts),
      breaker_(config.breaker, clock_, &telemetry_),
      bulkhead_(config.bulkhead, &telemetry_),
      backoff_(config.retry, jitter_seed) {
  validate(telemetry_.name(), config_);
}

time_point pipeline::overall_deadline() const { return clock_->now() + config_.retry.total_deadline; }

attempt_context pipeline::context_for(std::uint32_t attempt, const circuit_breaker::permit& p,
                                      time_point overall) const {
  return {attempt, std::min(p.started + config_.time_limit.call_timeout, overall)};
}

pipeline::next_step pipeline::after_failure(std::uint32_t attempt, std::uint32_t attempts, time_point overall) {
  if (attempt >= attempts) return next_step::give_up;
  // The failure may have opened the breaker: the next try_acquire refuses at once, so waiting
  // out the backoff first would only delay the refusal.
  if (breaker_.state() == circuit_state::open) return next_step::breaker_open;
  const auto delay = backoff_.delay_before(attempt + 1);
  if (clock_->now() + delay >= overall) return next_step::give_up;
  sleep_(delay);
  telemetry_.retry(attempt + 1);
  return next_step::retry;
}

}  // namespace cqrs::core::resilience
