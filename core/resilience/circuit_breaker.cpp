#include "core/resilience/circuit_breaker.hpp"

#include <algorithm>
#include <chrono>

namespace cqrs::core::resilience {

namespace {

std::chrono::milliseconds until(time_point from, time_point to) {
  if (to <= from) return std::chrono::milliseconds{0};
  return std::chrono::ceil<std::chrono::milliseconds>(to - from);
}

bool tripped(const window_totals& t, const breaker_config& c) {
  return t.failure_rate() >= c.failure_rate_threshold || t.slow_rate() >= c.slow_call_rate_threshold;
}

}  // namespace

circuit_breaker::circuit_breaker(breaker_config config, std::shared_ptr<const clock> clock, telemetry* telemetry)
    : config_(config),
      clock_(clock ? std::move(clock) : std::make_shared<steady_clock_source>()),
      telemetry_(telemetry),
      word_(pack(circuit_state::closed, 0)),
      open_until_(0),
      window_(config.window, config.window_size),
      probes_(window_type::count_based, std::max<std::uint32_t>(config.half_open_calls, 1)) {
  if (telemetry_ != nullptr) telemetry_->state(circuit_state::closed);
}

// The fast path: no lock while closed, none to refuse while the wait in open runs.
circuit_breaker::admission circuit_breaker::try_acquire() {
  const auto now = clock_->now();
  const auto word = word_.load(std::memory_order_acquire);
  const auto state = state_of(word);
  if (state == circuit_state::closed) return permit{generation_of(word), now};
  if (state == circuit_state::open && now.time_since_epoch().count() < open_until_.load(std::memory_order_acquire)) {
    if (telemetry_ != nullptr) telemetry_->call(call_outcome::not_permitted);
    return refused(now);
  }
  return acquire_slow(now);
}

circuit_breaker::admission circuit_breaker::acquire_slow(time_point now) {
  std::optional<change> changed;
  admission result = refusal{refusal_reason::circuit_open};
  {
    std::lock_guard lock(mutex_);
    changed = tick_locked(now);
    const auto word = word_.load(std::memory_order_relaxed);
    const auto state = state_of(word);
    if (state == circuit_state::closed) {
      result = permit{generation_of(word), now};
    } else if (state == circuit_state::half_open && probes_issued_ < config_.half_open_calls) {
      ++probes_issued_;
      result = permit{generation_of(word), now};
    } else {
      result = refused(now);
    }
  }
  announce(changed);
  if (telemetry_ != nullptr && std::holds_alternative<refusal>(result)) telemetry_->call(call_outcome::not_permitted);
  return result;
}

void circuit_breaker::record(const permit& p, call_kind kind) {
  const auto now = clock_->now();
  const bool slow = now - p.started >= config_.slow_call_duration;
  if (telemetry_ != nullptr) {
    const auto outcome = kind == call_kind::ignored   ? call_outcome::ignored
                         : kind == call_kind::failure ? call_outcome::failed
                         : slow                       ? call_outcome::slow
                                                      : call_outcome::successful;
    telemetry_->call(outcome);
  }
  std::optional<change> changed;
  {
    std::lock_guard lock(mutex_);
    changed = record_locked(p, kind, slow, now);
  }
  announce(changed);
}

std::optional<circuit_breaker::change> circuit_breaker::record_locked(const permit& p, call_kind kind, bool slow,
                                                                      time_point now) {
  if (auto changed = tick_locked(now)) return changed;  // the permit's state is over
  const auto word = word_.load(std::memory_order_relaxed);
  if (generation_of(word) != p.generation) return std::nullopt;  // a straggler from an earlier state
  const bool probing = state_of(word) == circuit_state::half_open;
  if (kind == call_kind::ignored) {
    if (probing && probes_issued_ > 0) --probes_issued_;  // the probe slot goes to the next caller
    return std::nullopt;
  }
  auto& window = probing ? probes_ : window_;
  const auto totals = window.record(kind == call_kind::failure, slow, now);
  publish_rates_locked(totals, probing);
  return evaluate_locked(totals, probing, now);
}

std::optional<circuit_breaker::change> circuit_breaker::evaluate_locked(const window_totals& t, bool probing,
                                                                        time_point now) {
  if (probing) {
    if (t.calls < config_.half_open_calls) return std::nullopt;
    return transition_locked(tripped(t, config_) ? circuit_state::open : circuit_state::closed, now);
  }
  if (t.calls < config_.minimum_calls || !tripped(t, config_)) return std::nullopt;
  return transition_locked(circuit_state::open, now);
}

// Transitions that time makes due; evaluated lazily by whoever touches the breaker next, so an
// idle breaker needs no timer thread.
std::optional<circuit_breaker::change> circuit_breaker::tick_locked(time_point now) {
  const auto state = state_of(word_.load(std::memory_order_relaxed));
  if (state == circuit_state::open && now.time_since_epoch().count() >= open_until_.load(std::memory_order_relaxed)) {
    return transition_locked(circuit_state::half_open, now);
  }
  if (state == circuit_state::half_open && now >= half_open_until_) {
    return transition_locked(circuit_state::open, now);
  }
  return std::nullopt;
}

circuit_breaker::change circuit_breaker::transition_locked(circuit_state to, time_point now) {
  const auto word = word_.load(std::memory_order_relaxed);
  const change c{state_of(word), to};
  switch (to) {
    case circuit_state::open:
      open_until_.store((now + config_.wait_in_open).time_since_epoch().count(), std::memory_order_relaxed);
      break;
    case circuit_state::half_open:
      probes_.reset();
      probes_issued_ = 0;
      half_open_until_ = config_.half_open_max_wait.count() > 0 ? now + config_.half_open_max_wait : time_point::max();
      break;
    case circuit_state::closed:
      window_.reset();
      break;
  }
  // Release: a reader that sees the new state also sees open_until_.
  word_.store(pack(to, generation_of(word) + 1), std::memory_order_release);
  if (telemetry_ != nullptr) {
    telemetry_->state(to);
    if (to != circuit_state::open) telemetry_->rates(-1, -1);  // a fresh window
  }
  return c;
}

void circuit_breaker::publish_rates_locked(const window_totals& t, bool probing) {
  if (telemetry_ == nullptr) return;
  const auto minimum = probing ? config_.half_open_calls : config_.minimum_calls;
  if (t.calls < minimum) {
    telemetry_->rates(-1, -1);
  } else {
    telemetry_->rates(t.failure_rate(), t.slow_rate());
  }
}

void circuit_breaker::announce(const std::optional<change>& c) const {
  if (c && telemetry_ != nullptr) telemetry_->transition(c->from, c->to);
}

refusal circuit_breaker::refused(time_point now) const {
  const auto word = word_.load(std::memory_order_acquire);
  if (state_of(word) == circuit_state::open) {
    return {refusal_reason::circuit_open, until(now, time_point{duration{open_until_.load(std::memory_order_acquire)}})};
  }
  // Half-open with every probe out: worth trying again once the probes have reported, which
  // takes at most a call's duration; the wait in open is the safe hint.
  return {refusal_reason::circuit_open, std::chrono::ceil<std::chrono::milliseconds>(config_.wait_in_open)};
}

circuit_state circuit_breaker::state() {
  const auto word = word_.load(std::memory_order_acquire);
  if (state_of(word) == circuit_state::closed) return circuit_state::closed;
  std::optional<change> changed;
  circuit_state current;
  {
    std::lock_guard lock(mutex_);
    changed = tick_locked(clock_->now());
    current = state_of(word_.load(std::memory_order_relaxed));
  }
  announce(changed);
  return current;
}

window_totals circuit_breaker::totals() {
  const auto now = clock_->now();
  std::optional<change> changed;
  window_totals t;
  {
    std::lock_guard lock(mutex_);
    changed = tick_locked(now);
    t = state_of(word_.load(std::memory_order_relaxed)) == circuit_state::half_open ? probes_.totals(now)
                                                                                    : window_.totals(now);
  }
  announce(changed);
  return t;
}

}  // namespace cqrs::core::resilience
