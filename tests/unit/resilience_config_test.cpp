// Settings of named resilience instances: defaults, CQRS_RESILIENCE_<NAME>_* overrides, and
// errors that name the variable.

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "core/config.hpp"
#include "core/resilience/config.hpp"
#include "core/resilience/refusal.hpp"

using namespace cqrs::core;
using namespace cqrs::core::resilience;
using namespace std::chrono_literals;

namespace {

settings_source env(std::map<std::string, std::string> vars) { return settings_source(std::move(vars), {}); }

}  // namespace

TEST_CASE("payment_provider's defaults suit a card processor") {
  const auto c = load_instance_config("payment_provider", env({}));
  CHECK(c.breaker.window == window_type::count_based);
  CHECK(c.breaker.window_size == 50);
  CHECK(c.breaker.minimum_calls == 20);
  CHECK(c.breaker.failure_rate_threshold == 50);
  CHECK(c.breaker.wait_in_open == 10s);
  CHECK(c.breaker.half_open_calls == 3);
  CHECK(c.breaker.half_open_max_wait == 30s);
  CHECK(c.time_limit.call_timeout == 5s);
  CHECK(c.retry.max_attempts == 3);
}

TEST_CASE("any other instance starts from resilience4j's and Polly's defaults") {
  const auto c = load_instance_config("search_index", env({}));
  CHECK(c.breaker.window_size == 100);
  CHECK(c.breaker.minimum_calls == 100);
  CHECK(c.breaker.wait_in_open == 60s);
  CHECK(c.breaker.half_open_calls == 10);
  CHECK(c.bulkhead.max_concurrent == 25);
  CHECK(c.time_limit.call_timeout == 30s);
}

TEST_CASE("every setting is read from CQRS_RESILIENCE_<NAME>_<KEY>") {
  CHECK(env_prefix("payment_provider") == "CQRS_RESILIENCE_PAYMENT_PROVIDER_");
  const auto c = load_instance_config("payment_provider", env({
                                                              {"CQRS_RESILIENCE_PAYMENT_PROVIDER_WINDOW_TYPE", "time"},
                                                              {"CQRS_RESILIENCE_PAYMENT_PROVIDER_WINDOW_SIZE", "30"},
                                                              {"CQRS_RESILIENCE_PAYMENT_PROVIDER_MINIMUM_CALLS", "10"},
                                                              {"CQRS_RESILIENCE_PAYMENT_PROVIDER_FAILURE_RATE", "25"},
                                                              {"CQRS_RESILIENCE_PAYMENT_PROVIDER_OPEN_WAIT_MS", "2500"},
                                                              {"CQRS_RESILIENCE_PAYMENT_PROVIDER_MAX_ATTEMPTS", "5"},
                                                              {"CQRS_RESILIENCE_PAYMENT_PROVIDER_CALL_TIMEOUT_MS", "800"},
                                                              {"CQRS_RESILIENCE_PAYMENT_PROVIDER_BULKHEAD_QUEUE", "7"},
                                                          }));
  CHECK(c.breaker.window == window_type::time_based);
  CHECK(c.breaker.window_size == 30);
  CHECK(c.breaker.minimum_calls == 10);
  CHECK(c.breaker.failure_rate_threshold == 25);
  CHECK(c.breaker.wait_in_open == 2500ms);
  CHECK(c.retry.max_attempts == 5);
  CHECK(c.time_limit.call_timeout == 800ms);
  CHECK(c.bulkhead.max_queue == 7);
  CHECK(c.breaker.half_open_calls == 3);  // untouched keys keep the instance's defaults
}

TEST_CASE("a wrong value stops start-up naming the variable") {
  const auto error_of = [](std::map<std::string, std::string> vars) {
    try {
      load_instance_config("payment_provider", env(std::move(vars)));
    } catch (const config_error& e) {
      return e.variable();
    }
    return std::string("no error");
  };
  CHECK(error_of({{"CQRS_RESILIENCE_PAYMENT_PROVIDER_FAILURE_RATE", "0"}}) == "CQRS_RESILIENCE_PAYMENT_PROVIDER_FAILURE_RATE");
  CHECK(error_of({{"CQRS_RESILIENCE_PAYMENT_PROVIDER_WINDOW_TYPE", "sliding"}}) == "CQRS_RESILIENCE_PAYMENT_PROVIDER_WINDOW_TYPE");
  CHECK(error_of({{"CQRS_RESILIENCE_PAYMENT_PROVIDER_MAX_ATTEMPTS", "many"}}) == "CQRS_RESILIENCE_PAYMENT_PROVIDER_MAX_ATTEMPTS");
  CHECK(error_of({{"CQRS_RESILIENCE_PAYMENT_PROVIDER_MINIMUM_CALLS", "51"}}) == "CQRS_RESILIENCE_PAYMENT_PROVIDER_MINIMUM_CALLS");
  CHECK(error_of({{"CQRS_RESILIENCE_PAYMENT_PROVIDER_BULKHEAD_MAX_WAIT_MS", "0"}}) ==
        "CQRS_RESILIENCE_PAYMENT_PROVIDER_BULKHEAD_MAX_WAIT_MS");
}

TEST_CASE("settings_for lists every key with the instance's default, for --help") {
  const auto specs = settings_for("payment_provider");
  CHECK(specs.size() == 17);
  CHECK(specs.front().env == "CQRS_RESILIENCE_PAYMENT_PROVIDER_WINDOW_TYPE");
  bool found = false;
  for (const auto& s : specs) found = found || (s.env == "CQRS_RESILIENCE_PAYMENT_PROVIDER_HALF_OPEN_MAX_WAIT_MS" && s.default_text == "30000");
  CHECK(found);
}

TEST_CASE("Retry-After seconds round a refusal's hint up, at least 1") {
  CHECK(retry_after_seconds(refusal{refusal_reason::circuit_open, 0ms}) == 1);
  CHECK(retry_after_seconds(refusal{refusal_reason::circuit_open, 1000ms}) == 1);
  CHECK(retry_after_seconds(refusal{refusal_reason::circuit_open, 1001ms}) == 2);
  CHECK(retry_after_seconds(refusal{refusal_reason::bulkhead_full, 9500ms}) == 10);
}
