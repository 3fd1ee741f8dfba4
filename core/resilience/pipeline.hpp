#pragma once

// One named resilience instance per dependency, composing the strategies in one place, outermost
// first (Polly v8's recommended order):
//
//   bulkhead -> retry -> circuit breaker -> time limit -> the call
//
// - the bulkhead admits the whole call (all its attempts) once, or refuses it;
// - every attempt asks the breaker for a permit and gets its own deadline (attempt_context),
//   never later than the retry's total deadline;
// - a failed attempt is retried only when the call is safe to repeat (retry_safety), attempts
//   remain and the backoff ends before the total deadline;
// - a refusal by the breaker is returned at once, never retried or waited out: the caller parks
//   the work (an open breaker found after a failure skips the backoff).
//
// The call returns a value of its own type T (success, decline, 5xx, timeout...); a classifier
// maps it to a call_kind for the breaker and the retry. The outcome of execute() is T, or a
// refusal when the call did not run (again). An exception thrown by the call counts as a
// failure for the breaker and propagates, never retried: broken infrastructure, not an
// expected outcome.
//
// The time limit: the call receives its deadline and must honour it (a Beast stream's
// expires_at, a libpq statement_timeout); for an Asio operation, with_time_limit
// (core/resilience/asio_time_limit.hpp) cancels the operation itself at the deadline.
//
// execute() blocks the calling thread during the bulkhead's queue wait and the retry's backoff:
// run it on worker threads, never on an I/O thread.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/resilience/bulkhead.hpp"
#include "core/resilience/circuit_breaker.hpp"
#include "core/resilience/clock.hpp"
#include "core/resilience/config.hpp"
#include "core/resilience/refusal.hpp"
#include "core/resilience/retry.hpp"
#include "core/resilience/telemetry.hpp"

namespace cqrs::core::resilience {

struct attempt_context {
  std::uint32_t attempt;  // 1 for the first
  time_point deadline;    // the attempt's own deadline, capped by the total deadline
};

// T, or the refusal that kept the call from running (again).
template <typename T>
using guarded = std::variant<T, refusal>;

class pipeline {
 public:
  // How the retry waits between attempts; tests pass one that advances a manual_clock.
  using sleeper = std::function<void(duration)>;

  // `clock` null: the steady clock; `sleep` null: std::this_thread::sleep_for.
  pipeline(std::string name, instance_config config, metrics_registry& registry, const logger& log,
           std::shared_ptr<const clock> clock = nullptr, sleeper sleep = nullptr,
           std::uint64_t jitter_seed = 0x9e3779b97f4a7c15ULL);
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  // `call`: T(const attempt_context&); `classify`: call_kind(const T&).
  template <typename Call, typename Classify>
  auto execute(retry_safety safety, Call&& call, Classify&& classify)
      -> guarded<std::decay_t<std::invoke_result_t<Call&, const attempt_context&>>>;

  const std::string& name() const { return telemetry_.name(); }
  const instance_config& config() const { return config_; }
  circuit_breaker& breaker() { return breaker_; }
  bulkhead& concurrency() { return bulkhead_; }

 private:
  enum class next_step { give_up, retry, breaker_open };

  attempt_context context_for(std::uint32_t attempt, const circuit_breaker::permit& p, time_point overall) const;
  time_point overall_deadline() const;
  // After a failed attempt: whether to try again, waiting out the backoff when so.
  next_step after_failure(std::uint32_t attempt, std::uint32_t attempts, time_point overall);

  instance_config config_;
  std::shared_ptr<const clock> clock_;
  sleeper sleep_;
  telemetry telemetry_;
  circuit_breaker breaker_;
  bulkhead bulkhead_;
  backoff backoff_;
};

template <typename Call, typename Classify>
auto pipeline::execute(retry_safety safety, Call&& call, Classify&& classify)
    -> guarded<std::decay_t<std::invoke_result_t<Call&, const attempt_context&>>> {
  using result_type = std::decay_t<std::invoke_result_t<Call&, const attempt_context&>>;
  auto slot = bulkhead_.acquire();
  if (const auto* refused = std::get_if<refusal>(&slot)) return *refused;
  const auto overall = overall_deadline();
  const auto attempts = attempts_for(config_.retry, safety);
  for (std::uint32_t attempt = 1;; ++attempt) {
    auto admission = breaker_.try_acquire();
    if (const auto* refused = std::get_if<refusal>(&admission)) return *refused;
    const auto& permit = std::get<circuit_breaker::permit>(admission);
    std::optional<result_type> result;
    try {
      result.emplace(std::invoke(call, context_for(attempt, permit, overall)));
    } catch (...) {
      breaker_.record(permit, call_kind::failure);
      throw;
    }
    const call_kind kind = std::invoke(classify, std::as_const(*result));
    breaker_.record(permit, kind);
    if (kind != call_kind::failure || after_failure(attempt, attempts, overall) == next_step::give_up) {
      return std::move(*result);
    }
  }
}

}  // namespace cqrs::core::resilience
