// The bulkhead: slots, a bounded queue with a maximum wait, and typed refusals.

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/resilience/bulkhead.hpp"
#include "core/resilience/telemetry.hpp"

using namespace cqrs::core;
using namespace cqrs::core::resilience;
using namespace std::chrono_literals;

namespace {

bulkhead_config two_slots_one_queued(std::chrono::milliseconds max_wait) {
  return bulkhead_config{.max_concurrent = 2, .max_queue = 1, .max_wait = max_wait};
}

// Waits (on the condition, at most 10 s) until the bulkhead has `n` queued calls.
bool queued_eventually(const bulkhead& b, std::uint32_t n) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (b.queued() != n) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

TEST_CASE("a full bulkhead with a full queue refuses at once, typed, with a Retry-After hint") {
  metrics_registry registry;
  const logger log("test", log_level::error);
  telemetry metrics("payment_provider", registry, log, 3);
  bulkhead b(two_slots_one_queued(10s), &metrics);
  auto first = b.acquire();
  auto second = b.acquire();
  REQUIRE(std::holds_alternative<bulkhead::slot>(first));
  REQUIRE(std::holds_alternative<bulkhead::slot>(second));
  CHECK(b.available() == 0);
  auto waiter = std::async(std::launch::async, [&] { return b.acquire(); });  // takes the queue place
  REQUIRE(queued_eventually(b, 1));
  const auto started = std::chrono::steady_clock::now();
  auto refused = b.acquire();
  CHECK(std::chrono::steady_clock::now() - started < 1s);  // immediate, not after the 10 s wait
  REQUIRE(std::holds_alternative<refusal>(refused));
  CHECK(std::get<refusal>(refused).reason == refusal_reason::bulkhead_full);
  CHECK(retry_after_seconds(std::get<refusal>(refused)) == 10);
  const auto text = registry.render();
  CHECK(text.find("cqrs_resilience_bulkhead_available{name=\"payment_provider\"} 0") != std::string::npos);
  CHECK(text.find("cqrs_resilience_bulkhead_queued{name=\"payment_provider\"} 1") != std::string::npos);
  CHECK(text.find("cqrs_resilience_bulkhead_rejected_total{name=\"payment_provider\"} 1") != std::string::npos);
  first = bulkhead::admission(refusal{refusal_reason::bulkhead_full});  // gives the slot back
  auto queued = waiter.get();
  CHECK(std::holds_alternative<bulkhead::slot>(queued));  // the queued call got the freed slot
  CHECK(b.queued() == 0);
}

TEST_CASE("a queued call is refused as bulkhead_timeout after the maximum wait") {
  bulkhead b(two_slots_one_queued(50ms));
  auto first = b.acquire();
  auto second = b.acquire();
  const auto started = std::chrono::steady_clock::now();
  auto third = b.acquire();
  const auto waited = std::chrono::steady_clock::now() - started;
  REQUIRE(std::holds_alternative<refusal>(third));
  CHECK(std::get<refusal>(third).reason == refusal_reason::bulkhead_timeout);
  CHECK(waited >= 50ms);
  CHECK(waited < 5s);
  CHECK(b.queued() == 0);
}

TEST_CASE("slots come back when their holders end, and try_acquire never waits") {
  bulkhead b(two_slots_one_queued(10s));
  {
    auto first = b.try_acquire();
    auto second = b.try_acquire();
    CHECK(b.available() == 0);
    CHECK(std::get<refusal>(b.try_acquire()).reason == refusal_reason::bulkhead_full);
    auto moved = std::move(std::get<bulkhead::slot>(first));  // moving a slot keeps one slot
    CHECK(b.available() == 0);
  }
  CHECK(b.available() == 2);
}

TEST_CASE("with no queue a full bulkhead refuses at once") {
  bulkhead b(bulkhead_config{.max_concurrent = 1, .max_queue = 0, .max_wait = 0ms});
  auto held = b.acquire();
  CHECK(std::get<refusal>(b.acquire()).reason == refusal_reason::bulkhead_full);
}

TEST_CASE("a pool's admission: try_enqueue queues up to slots plus queue, start() moves a call to running") {
  metrics_registry registry;
  const logger log("test", log_level::error);
  telemetry metrics("gateway_postgres", registry, log, 1);
  bulkhead b(two_slots_one_queued(0ms), &metrics);
  std::vector<bulkhead::slot> admitted;
  for (int i = 0; i < 3; ++i) {
    auto a = b.try_enqueue();
    REQUIRE(std::holds_alternative<bulkhead::slot>(a));
    admitted.push_back(std::move(std::get<bulkhead::slot>(a)));
  }
  CHECK(b.queued() == 3);  // admitted, none started yet
  CHECK(b.available() == 2);
  const auto refused = b.try_enqueue();  // 2 slots + 1 queue place are taken: refused at once
  REQUIRE(std::holds_alternative<refusal>(refused));
  CHECK(std::get<refusal>(refused).reason == refusal_reason::bulkhead_full);
  admitted[0].start();
  admitted[1].start();
  admitted[1].start();  // a running slot stays running
  CHECK(b.available() == 0);
  CHECK(b.queued() == 1);
  const auto text = registry.render();
  CHECK(text.find("cqrs_resilience_bulkhead_available{name=\"gateway_postgres\"} 0") != std::string::npos);
  CHECK(text.find("cqrs_resilience_bulkhead_queued{name=\"gateway_postgres\"} 1") != std::string::npos);
  CHECK(text.find("cqrs_resilience_bulkhead_rejected_total{name=\"gateway_postgres\"} 1") != std::string::npos);
  admitted.erase(admitted.begin());  // a running call ends
  CHECK(b.available() == 1);
  admitted.pop_back();  // a queued call given up before it started (its pool stopped)
  CHECK(b.queued() == 0);
  CHECK(std::holds_alternative<bulkhead::slot>(b.try_enqueue()));
}
