#include "core/resilience/config.hpp"

#include <cctype>

#include <fmt/format.h>

namespace cqrs::core::resilience {

namespace {

// The card processor behind payments: opens after 50 % failures over the last 50 calls once 20
// were seen, probes after 10 s with 3 calls, never stays half-open beyond 30 s, gives each
// attempt 5 s and tries at most 3 times within 15 s.
instance_config payment_provider_defaults() {
  instance_config c;
  c.breaker.window = window_type::count_based;
  c.breaker.window_size = 50;
  c.breaker.minimum_calls = 20;
  c.breaker.failure_rate_threshold = 50;
  c.breaker.slow_call_rate_threshold = 80;
  c.breaker.slow_call_duration = milliseconds{3'000};
  c.breaker.wait_in_open = milliseconds{10'000};
  c.breaker.half_open_calls = 3;
  c.breaker.half_open_max_wait = milliseconds{30'000};
  c.retry.max_attempts = 3;
  c.retry.initial_backoff = milliseconds{200};
  c.retry.max_backoff = milliseconds{2'000};
  c.retry.total_deadline = milliseconds{15'000};
  c.bulkhead.max_concurrent = 32;
  c.bulkhead.max_queue = 64;
  c.bulkhead.max_wait = milliseconds{1'000};
  c.time_limit.call_timeout = milliseconds{5'000};
  return c;
}

std::string key(std::string_view name, std::string_view suffix) { return env_prefix(name) + std::string(suffix); }

std::uint32_t count(const settings_source& s, const std::string& var, std::uint32_t fallback, std::int64_t min,
                    std::int64_t max) {
  return static_cast<std::uint32_t>(s.integer(var, fallback, min, max));
}

double percent(const settings_source& s, const std::string& var, double fallback) {
  return static_cast<double>(s.integer(var, static_cast<std::int64_t>(fallback), 1, 100));
}

milliseconds ms(const settings_source& s, const std::string& var, milliseconds fallback, milliseconds min) {
  return s.milliseconds(var, fallback, min, milliseconds{24 * 3600 * 1000});
}

window_type window(const settings_source& s, const std::string& var, window_type fallback) {
  const auto text = s.text(var, fallback == window_type::count_based ? "count" : "time");
  if (text == "count") return window_type::count_based;
  if (text == "time") return window_type::time_based;
  throw s.named(config_error(var, "must be 'count' or 'time', got '" + text + "'"));
}

void load_breaker(std::string_view n, const settings_source& s, breaker_config& b) {
  b.window = window(s, key(n, "WINDOW_TYPE"), b.window);
  b.window_size = count(s, key(n, "WINDOW_SIZE"), b.window_size, 1, 100'000);
  b.minimum_calls = count(s, key(n, "MINIMUM_CALLS"), b.minimum_calls, 1, 100'000);
  b.failure_rate_threshold = percent(s, key(n, "FAILURE_RATE"), b.failure_rate_threshold);
  b.slow_call_rate_threshold = percent(s, key(n, "SLOW_CALL_RATE"), b.slow_call_rate_threshold);
  b.slow_call_duration = ms(s, key(n, "SLOW_CALL_MS"), b.slow_call_duration, milliseconds{1});
  b.wait_in_open = ms(s, key(n, "OPEN_WAIT_MS"), b.wait_in_open, milliseconds{1});
  b.half_open_calls = count(s, key(n, "HALF_OPEN_CALLS"), b.half_open_calls, 1, 10'000);
  b.half_open_max_wait = ms(s, key(n, "HALF_OPEN_MAX_WAIT_MS"), b.half_open_max_wait, milliseconds{0});
}

void load_retry(std::string_view n, const settings_source& s, retry_config& r) {
  r.max_attempts = count(s, key(n, "MAX_ATTEMPTS"), r.max_attempts, 1, 100);
  r.initial_backoff = ms(s, key(n, "BACKOFF_INITIAL_MS"), r.initial_backoff, milliseconds{0});
  r.max_backoff = ms(s, key(n, "BACKOFF_MAX_MS"), r.max_backoff, milliseconds{0});
  r.total_deadline = ms(s, key(n, "RETRY_DEADLINE_MS"), r.total_deadline, milliseconds{1});
}

void load_bulkhead(std::string_view n, const settings_source& s, bulkhead_config& b) {
  b.max_concurrent = count(s, key(n, "BULKHEAD_MAX_CONCURRENT"), b.max_concurrent, 1, 100'000);
  b.max_queue = count(s, key(n, "BULKHEAD_QUEUE"), b.max_queue, 0, 100'000);
  b.max_wait = ms(s, key(n, "BULKHEAD_MAX_WAIT_MS"), b.max_wait, milliseconds{0});
}

}  // namespace

instance_config defaults_for(std::string_view name) {
  if (name == "payment_provider") return payment_provider_defaults();
  return instance_config{};
}

std::string env_prefix(std::string_view name) {
  std::string out = "CQRS_RESILIENCE_";
  for (const char c : name) {
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : '_';
  }
  return out + "_";
}

std::vector<setting_spec> settings_for(std::string_view name) {
  const auto d = defaults_for(name);
  const auto& b = d.breaker;
  const auto n = [&](std::string_view k) { return key(name, k); };
  const auto num = [](auto v) { return fmt::format("{}", v); };
  return {
      {n("WINDOW_TYPE"), b.window == window_type::count_based ? "count" : "time", "breaker window: count or time"},
      {n("WINDOW_SIZE"), num(b.window_size), "breaker window: calls (count) or seconds (time)"},
      {n("MINIMUM_CALLS"), num(b.minimum_calls), "calls in the window before rates count"},
      {n("FAILURE_RATE"), num(b.failure_rate_threshold), "failure percentage that opens the breaker"},
      {n("SLOW_CALL_RATE"), num(b.slow_call_rate_threshold), "slow-call percentage that opens the breaker"},
      {n("SLOW_CALL_MS"), num(b.slow_call_duration.count()), "a call this long is slow"},
      {n("OPEN_WAIT_MS"), num(b.wait_in_open.count()), "wait in open before probing"},
      {n("HALF_OPEN_CALLS"), num(b.half_open_calls), "probes permitted in half-open"},
      {n("HALF_OPEN_MAX_WAIT_MS"), num(b.half_open_max_wait.count()), "longest stay in half-open (0: unbounded)"},
      {n("CALL_TIMEOUT_MS"), num(d.time_limit.call_timeout.count()), "deadline of each attempt"},
      {n("MAX_ATTEMPTS"), num(d.retry.max_attempts), "attempts of a retry-safe call, the first included"},
      {n("BACKOFF_INITIAL_MS"), num(d.retry.initial_backoff.count()), "ceiling of the first backoff"},
      {n("BACKOFF_MAX_MS"), num(d.retry.max_backoff.count()), "cap of every backoff"},
      {n("RETRY_DEADLINE_MS"), num(d.retry.total_deadline.count()), "no attempt starts past this"},
      {n("BULKHEAD_MAX_CONCURRENT"), num(d.bulkhead.max_concurrent), "calls running at once"},
      {n("BULKHEAD_QUEUE"), num(d.bulkhead.max_queue), "calls waiting for a slot"},
      {n("BULKHEAD_MAX_WAIT_MS"), num(d.bulkhead.max_wait.count()), "longest wait for a slot"},
  };
}

void validate(std::string_view name, const instance_config& c) {
  if (c.breaker.minimum_calls > c.breaker.window_size && c.breaker.window == window_type::count_based) {
    throw config_error(key(name, "MINIMUM_CALLS"),
                       fmt::format("must not exceed the window size {} (the rates would never count)",
                                   c.breaker.window_size));
  }
  if (c.retry.max_backoff < c.retry.initial_backoff) {
    throw config_error(key(name, "BACKOFF_MAX_MS"), "must be at least the initial backoff");
  }
  if (c.bulkhead.max_queue > 0 && c.bulkhead.max_wait.count() == 0) {
    throw config_error(key(name, "BULKHEAD_MAX_WAIT_MS"), "must be above 0 when calls may queue");
  }
}

instance_config load_instance_config(std::string_view name, const settings_source& source) {
  auto c = defaults_for(name);
  load_breaker(name, source, c.breaker);
  load_retry(name, source, c.retry);
  load_bulkhead(name, source, c.bulkhead);
  c.time_limit.call_timeout = ms(source, key(name, "CALL_TIMEOUT_MS"), c.time_limit.call_timeout, milliseconds{1});
  try {
    validate(name, c);
  } catch (const config_error& e) {
    throw source.named(e);
  }
  return c;
}

}  // namespace cqrs::core::resilience
