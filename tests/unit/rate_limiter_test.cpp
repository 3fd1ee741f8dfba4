// Token buckets with injected time: bursts, refill, independence of clients, the memory bound,
// and concurrent takes that never grant more than the bucket allows.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gateway/rate_limiter.hpp"

namespace {

using namespace std::chrono_literals;
using cqrs::gateway::rate_limit_config;
using cqrs::gateway::rate_limiter;

const rate_limiter::clock::time_point t0{1000s};

rate_limit_config limits(double per_second, double burst, std::size_t max_clients = 1000) {
  return rate_limit_config{per_second, burst, max_clients};
}

int allowed_in_a_row(rate_limiter& limiter, std::string_view client, rate_limiter::clock::time_point at) {
  int allowed = 0;
  while (limiter.take(client, at).allowed) ++allowed;
  return allowed;
}

}  // namespace

TEST_SUITE("rate_limiter") {

TEST_CASE("rate limiter: a client gets its burst, then a refusal that says when to retry") {
  rate_limiter limiter(limits(2, 5));
  CHECK(allowed_in_a_row(limiter, "alice", t0) == 5);
  const auto refused = limiter.take("alice", t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after == 1s);  // one token every half second, rounded up to whole seconds
}

TEST_CASE("rate limiter: retry_after is the wait for one token, rounded up") {
  rate_limiter limiter(limits(0.1, 1));  // a token every 10 s
  CHECK(limiter.take("alice", t0).allowed);
  CHECK(limiter.take("alice", t0).retry_after == 10s);
  CHECK(limiter.take("alice", t0 + 2500ms).retry_after == 8s);  // 7.5 s left
}

TEST_CASE("rate limiter: tokens come back over time, never beyond the burst") {
  rate_limiter limiter(limits(10, 20));
  CHECK(allowed_in_a_row(limiter, "alice", t0) == 20);
  CHECK(allowed_in_a_row(limiter, "alice", t0 + 500ms) == 5);
  CHECK(allowed_in_a_row(limiter, "alice", t0 + 1h) == 20);
}

TEST_CASE("rate limiter: a clock read before another caller's does not refill backwards") {
  rate_limiter limiter(limits(10, 1));
  CHECK(limiter.take("alice", t0 + 1s).allowed);
  CHECK_FALSE(limiter.take("alice", t0).allowed);
  CHECK_FALSE(limiter.take("alice", t0 + 1s).allowed);  // the earlier call gave no tokens
  CHECK(limiter.take("alice", t0 + 1100ms).allowed);
}

TEST_CASE("rate limiter: clients have separate buckets") {
  rate_limiter limiter(limits(1, 3));
  CHECK(allowed_in_a_row(limiter, "alice", t0) == 3);
  CHECK(allowed_in_a_row(limiter, "bob", t0) == 3);
  CHECK(limiter.tracked_clients() == 2);
}

TEST_CASE("rate limiter: zero requests per second disables limiting and tracks nobody") {
  rate_limiter limiter(limits(0, 1));
  for (int i = 0; i < 10'000; ++i) REQUIRE(limiter.take("alice", t0).allowed);
  CHECK(limiter.tracked_clients() == 0);
}

TEST_CASE("rate limiter: memory stays bounded however many clients come") {
  for (const std::size_t max_clients : {1UL, 5UL, 16UL, 100UL, 1000UL}) {
    CAPTURE(max_clients);
    rate_limiter limiter(limits(1, 2, max_clients));
    for (int i = 0; i < 20'000; ++i) limiter.take("client-" + std::to_string(i), t0);
    CHECK(limiter.tracked_clients() <= max_clients);
    CHECK(limiter.tracked_clients() > 0);
  }
}

TEST_CASE("rate limiter: a busy client keeps its bucket while idle ones are forgotten") {
  rate_limiter limiter(limits(1, 2, 64));  // 16 shards of 4
  CHECK(allowed_in_a_row(limiter, "busy", t0) == 2);
  for (int i = 0; i < 10'000; ++i) {
    limiter.take("idle-" + std::to_string(i), t0);
    REQUIRE_FALSE(limiter.take("busy", t0).allowed);  // recently seen, so never evicted
  }
}

TEST_CASE("rate limiter: concurrent takes never grant more than the burst plus the refill") {
  constexpr double per_second = 100;
  constexpr double burst = 50;
  constexpr int threads = 8;
  constexpr int takes = 2'000;
  constexpr auto span = 1000ms;  // injected times spread over this
  rate_limiter limiter(limits(per_second, burst));
  std::atomic<int> granted{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < takes; ++i) {
        if (limiter.take("shared", t0 + span * i / takes).allowed) granted.fetch_add(1);
      }
    });
  }
  for (auto& w : workers) w.join();
  CHECK(granted.load() <= burst + per_second * 1.0);
  CHECK(granted.load() >= burst);
}

}  // TEST_SUITE
