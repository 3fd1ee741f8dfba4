#pragma once

// Settings of one named resilience instance (one per dependency: payment_provider, ...), their
// defaults, and how they are read from the environment: CQRS_RESILIENCE_<NAME>_<KEY>, NAME being
// the instance name in upper case (payment_provider -> CQRS_RESILIENCE_PAYMENT_PROVIDER_...).
// docs/resilience.md lists every key with its default and where that default comes from.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/resilience/sliding_window.hpp"

namespace cqrs::core::resilience {

using std::chrono::milliseconds;

struct breaker_config {
  window_type window = window_type::count_based;
  std::uint32_t window_size = 100;          // calls, or seconds for a time window (resilience4j: 100)
  std::uint32_t minimum_calls = 100;        // rates count from this many calls on (resilience4j: 100)
  double failure_rate_threshold = 50;       // percent, opens at or above (resilience4j: 50)
  double slow_call_rate_threshold = 100;    // percent, opens at or above (resilience4j: 100)
  milliseconds slow_call_duration{60'000};  // a call this long or longer is slow (resilience4j: 60 s)
  milliseconds wait_in_open{60'000};        // open this long before probing (resilience4j: 60 s)
  std::uint32_t half_open_calls = 10;       // probes let through in half-open (resilience4j: 10)
  // Longest stay in half-open before opening again, for probes that never report back.
  // resilience4j's default, 0, means "forever", which left breakers stuck half-open; 0 keeps
  // that meaning here, but no default uses it.
  milliseconds half_open_max_wait{60'000};
};

struct retry_config {
  std::uint32_t max_attempts = 3;         // the first call included (resilience4j: 3)
  milliseconds initial_backoff{500};      // ceiling of the first delay (resilience4j: 500 ms)
  double multiplier = 2;                  // each ceiling is the previous one times this (Polly: 2)
  milliseconds max_backoff{30'000};       // no ceiling above this (Polly: MaxDelay 30 s)
  milliseconds total_deadline{60'000};    // no attempt starts past this, counted from the first one
};

struct bulkhead_config {
  std::uint32_t max_concurrent = 25;      // calls running at once (resilience4j: 25)
  std::uint32_t max_queue = 0;            // calls waiting for a slot (Polly: QueueLimit 0)
  milliseconds max_wait{0};               // longest wait in the queue (resilience4j: 0)
};

struct time_limit_config {
  milliseconds call_timeout{30'000};      // per attempt (Polly: 30 s)
};

struct instance_config {
  breaker_config breaker;
  retry_config retry;
  bulkhead_config bulkhead;
  time_limit_config time_limit;
};

// The defaults of a named instance: tuned ones for the instances the engine knows
// (payment_provider), the library defaults above for any other.
instance_config defaults_for(std::string_view name);

// CQRS_RESILIENCE_PAYMENT_PROVIDER_ for "payment_provider".
std::string env_prefix(std::string_view name);

// Every setting of an instance, for --help: CQRS_RESILIENCE_<NAME>_<KEY> with its default.
std::vector<setting_spec> settings_for(std::string_view name);

// `defaults_for(name)` overridden by the instance's variables. Throws core::config_error naming
// the variable for a value out of range or a combination that cannot work.
instance_config load_instance_config(std::string_view name, const settings_source& source);

// Throws core::config_error (naming the instance) when settings contradict each other.
void validate(std::string_view name, const instance_config& config);

}  // namespace cqrs::core::resilience
