#pragma once

// A circuit breaker after resilience4j's CircuitBreakerStateMachine:
//
//   closed --(failure or slow-call rate >= threshold, once minimum_calls are in the window)--> open
//   open --(wait_in_open elapsed; checked on the next call)--> half_open
//   half_open --(half_open_calls probes reported; rate >= threshold)--> open
//   half_open --(half_open_calls probes reported; rate below)--> closed
//   half_open --(half_open_max_wait elapsed with probes unreported)--> open
//
// Usage: `try_acquire()` before the call (a permit, or a refusal value), `record(permit, kind)`
// after it. The breaker measures the call's duration itself (slow calls) with its injected clock.
//
// Thread-safety and cost: any thread may call anything. A closed breaker admits a call with one
// atomic load and no lock; an open one refuses with two atomic loads. Recording takes one short
// lock (the window's totals); the lock is never held across a call or a log write. Every permit
// carries the generation of the state that issued it: a report for an older generation (a call
// that started before the last transition) is counted in the metrics but not in the new state's
// window, so a slow straggler cannot trip or heal a state it never saw.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/resilience/clock.hpp"
#include "core/resilience/config.hpp"
#include "core/resilience/refusal.hpp"
#include "core/resilience/sliding_window.hpp"
#include "core/resilience/telemetry.hpp"

namespace cqrs::core::resilience {

// What a finished call says about the dependency's health, as the caller's classifier sees it:
// a timeout or a 5xx is a failure; a card decline is a success (the processor answered); a call
// the caller abandoned is ignored (neither).
enum class call_kind : std::uint8_t { success, failure, ignored };

class circuit_breaker {
 public:
  struct permit {
    std::uint64_t generation;
    time_point started;
  };
  using admission = std::variant<permit, refusal>;

  // `telemetry` may be null (no metrics, no log); it must outlive the breaker.
  explicit circuit_breaker(breaker_config config, std::shared_ptr<const clock> clock = nullptr,
                           telemetry* telemetry = nullptr);
  circuit_breaker(const circuit_breaker&) = delete;
  circuit_breaker& operator=(const circuit_breaker&) = delete;

  admission try_acquire();
  void record(const permit& p, call_kind kind);

  // The current state, after any transition that time has made due (open -> half_open when the
  // wait is over, half_open -> open past the maximum wait).
  circuit_state state();
  // The current state's window (closed: the sliding window; half_open: the probes).
  window_totals totals();
  const breaker_config& config() const { return config_; }

 private:
  struct change {
    circuit_state from;
    circuit_state to;
  };

  static std::uint64_t pack(circuit_state s, std::uint64_t generation) {
    return (generation << 2) | static_cast<std::uint64_t>(s);
  }
  static circuit_state state_of(std::uint64_t word) { return static_cast<circuit_state>(word & 3U); }
  static std::uint64_t generation_of(std::uint64_t word) { return word >> 2; }

  admission acquire_slow(time_point now);
  std::optional<change> tick_locked(time_point now);
  change transition_locked(circuit_state to, time_point now);
  std::optional<change> record_locked(const permit& p, call_kind kind, bool slow, time_point now);
  std::optional<change> evaluate_locked(const window_totals& t, bool probing, time_point now);
  void publish_rates_locked(const window_totals& t, bool probing);
  void announce(const std::optional<change>& c) const;
  refusal refused(time_point now) const;

  breaker_config config_;
  std::shared_ptr<const clock> clock_;
  telemetry* telemetry_;

  std::atomic<std::uint64_t> word_;          // state and generation, readable without the lock
  std::atomic<time_point::rep> open_until_;  // valid while open

  std::mutex mutex_;  // guards everything below, and every change of word_
  sliding_window window_;
  sliding_window probes_;
  std::uint32_t probes_issued_ = 0;
  time_point half_open_until_{};
};

}  // namespace cqrs::core::resilience
