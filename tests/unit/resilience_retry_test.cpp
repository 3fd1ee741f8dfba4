// Retry inside the composed pipeline (bulkhead -> retry -> breaker -> time limit -> call), driven
// by a manual clock whose "sleep" advances time: jitter bounds, what is retried, deadlines, and
// never retrying past an open breaker.

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/resilience/pipeline.hpp"
#include "core/resilience/retry.hpp"

using namespace cqrs::core;
using namespace cqrs::core::resilience;
using namespace std::chrono_literals;

namespace {

// What a card processor call returns in these tests.
enum class answer { approved, declined, server_error, timed_out };

call_kind classify(const answer& a) {
  return a == answer::server_error || a == answer::timed_out ? call_kind::failure : call_kind::success;
}

struct fixture {
  std::shared_ptr<manual_clock> clock = std::make_shared<manual_clock>();
  metrics_registry registry;
  logger log{"test", log_level::error};
  std::vector<duration> slept;
  pipeline resilient;

  explicit fixture(instance_config config = defaults_for("payment_provider"))
      : resilient("payment_provider", config, registry, log, clock, [this](duration d) {
          slept.push_back(d);
          clock->advance(d);
        }) {}

  // Runs a call answering `answers` in turn (the last one repeated), recording each attempt.
  guarded<answer> run(retry_safety safety, std::vector<answer> answers, std::vector<attempt_context>* seen = nullptr) {
    std::size_t i = 0;
    return resilient.execute(
        safety,
        [&](const attempt_context& ctx) {
          if (seen != nullptr) seen->push_back(ctx);
          clock->advance(10ms);
          return answers[std::min(i++, answers.size() - 1)];
        },
        classify);
  }
  bool rendered(const std::string& line) const { return registry.render().find(line) != std::string::npos; }
};

}  // namespace

TEST_CASE("full jitter: every delay lies in [0, min(cap, initial * 2^(n-2))] and the draws spread") {
  retry_config c;
  c.initial_backoff = 100ms;
  c.multiplier = 2;
  c.max_backoff = 1000ms;
  backoff b(c, 42);
  CHECK(b.ceiling(2) == 100ms);
  CHECK(b.ceiling(3) == 200ms);
  CHECK(b.ceiling(5) == 800ms);
  CHECK(b.ceiling(6) == 1000ms);   // capped
  CHECK(b.ceiling(200) == 1000ms);  // no overflow however many attempts
  for (std::uint32_t attempt = 2; attempt <= 7; ++attempt) {
    duration low = duration::max();
    duration high = duration::zero();
    for (int i = 0; i < 5000; ++i) {
      const auto d = b.delay_before(attempt);
      REQUIRE(d >= duration::zero());
      REQUIRE(d <= b.ceiling(attempt));
      low = std::min(low, d);
      high = std::max(high, d);
    }
    // Uniform over the whole range, not clustered at the top (that would not be full jitter).
    CHECK(low < b.ceiling(attempt) / 20);
    CHECK(high > b.ceiling(attempt) * 19 / 20);
  }
}

TEST_CASE("an idempotent call is retried on failure, up to the maximum attempts") {
  fixture f;
  std::vector<attempt_context> seen;
  const auto result = f.run(retry_safety::idempotency_key, {answer::server_error, answer::timed_out, answer::approved}, &seen);
  REQUIRE(std::holds_alternative<answer>(result));
  CHECK(std::get<answer>(result) == answer::approved);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].attempt == 1);
  CHECK(seen[2].attempt == 3);
  CHECK(f.slept.size() == 2);
  CHECK(f.slept[0] <= 200ms);
  CHECK(f.slept[1] <= 400ms);
  CHECK(f.rendered("cqrs_resilience_retries_total{name=\"payment_provider\",attempt=\"2\"} 1"));
  CHECK(f.rendered("cqrs_resilience_retries_total{name=\"payment_provider\",attempt=\"3\"} 1"));
}

TEST_CASE("the last failure is returned once the attempts are used up") {
  fixture f;
  const auto result = f.run(retry_safety::idempotent, {answer::server_error});
  CHECK(std::get<answer>(result) == answer::server_error);
  CHECK(f.slept.size() == 2);
}

TEST_CASE("a call that is not safe to repeat runs once") {
  fixture f;
  std::vector<attempt_context> seen;
  const auto result = f.run(retry_safety::unsafe, {answer::timed_out, answer::approved}, &seen);
  CHECK(std::get<answer>(result) == answer::timed_out);
  CHECK(seen.size() == 1);
  CHECK(f.slept.empty());
}

TEST_CASE("a decline is an answer, not a failure: never retried") {
  fixture f;
  std::vector<attempt_context> seen;
  CHECK(std::get<answer>(f.run(retry_safety::idempotency_key, {answer::declined}, &seen)) == answer::declined);
  CHECK(seen.size() == 1);
}

TEST_CASE("each attempt has its own deadline, capped by the total deadline") {
  auto config = defaults_for("payment_provider");
  config.time_limit.call_timeout = 5s;
  config.retry.total_deadline = 7s;
  config.retry.initial_backoff = 0ms;
  config.retry.max_backoff = 0ms;
  fixture f(config);
  std::vector<attempt_context> seen;
  const auto start = f.clock->now();
  std::size_t i = 0;
  f.resilient.execute(
      retry_safety::idempotent,
      [&](const attempt_context& ctx) {
        seen.push_back(ctx);
        f.clock->advance(i++ == 0 ? 5s : 1s);  // the first attempt runs into its deadline
        return answer::timed_out;
      },
      classify);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].deadline == start + 5s);
  CHECK(seen[1].deadline == start + 7s);  // 5 s from its start would pass the total deadline
  CHECK(seen[2].deadline == start + 7s);
}

TEST_CASE("no attempt starts when its backoff would end past the total deadline") {
  auto config = defaults_for("payment_provider");
  config.retry.total_deadline = 100ms;
  config.retry.initial_backoff = 1000ms;
  config.retry.max_backoff = 1000ms;
  fixture f(config);
  std::vector<attempt_context> seen;
  // Jitter may draw a short delay: run until one lands past the deadline or a retry happens.
  const auto result = f.run(retry_safety::idempotent, {answer::server_error}, &seen);
  CHECK(std::get<answer>(result) == answer::server_error);
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i].deadline <= seen[0].deadline);
  for (const auto d : f.slept) CHECK(d < 90ms);  // only delays that ended before the deadline were waited out
}

TEST_CASE("retry never goes past an open breaker: the refusal comes back at once, without a backoff") {
  auto config = defaults_for("payment_provider");
  config.breaker.window_size = 4;
  config.breaker.minimum_calls = 4;
  fixture f(config);
  for (int i = 0; i < 3; ++i) CHECK(std::holds_alternative<answer>(f.run(retry_safety::unsafe, {answer::approved})));
  f.slept.clear();
  int calls = 0;
  // 3 successes + 1 failure: 25 %. The retry's second failure makes it 2 of 4: open.
  const auto result = f.resilient.execute(
      retry_safety::idempotency_key,
      [&](const attempt_context&) {
        ++calls;
        return answer::server_error;
      },
      classify);
  CHECK(calls == 2);
  REQUIRE(std::holds_alternative<refusal>(result));
  CHECK(std::get<refusal>(result).reason == refusal_reason::circuit_open);
  CHECK(std::get<refusal>(result).retry_after == 10s);
  CHECK(f.slept.size() == 1);  // the backoff before attempt 2 only
  CHECK(f.rendered("cqrs_resilience_retries_total{name=\"payment_provider\",attempt=\"3\"} 0"));
  // And while open, a new call never reaches the dependency.
  const auto next = f.run(retry_safety::idempotency_key, {answer::approved});
  CHECK(std::get<refusal>(next).reason == refusal_reason::circuit_open);
}

TEST_CASE("an exception from the call counts as a failure and is not retried") {
  fixture f;
  int calls = 0;
  CHECK_THROWS_AS(f.resilient.execute(
                      retry_safety::idempotent,
                      [&](const attempt_context&) -> answer {
                        ++calls;
                        throw std::runtime_error("connection pool gone");
                      },
                      classify),
                  std::runtime_error);
  CHECK(calls == 1);
  CHECK(f.rendered("cqrs_resilience_calls_total{name=\"payment_provider\",outcome=\"failed\"} 1"));
}
