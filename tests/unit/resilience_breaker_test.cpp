// The circuit breaker and its sliding windows, driven by a manual clock: every transition, the
// window arithmetic, which outcomes count, and many threads at once.

#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/resilience/circuit_breaker.hpp"
#include "core/resilience/sliding_window.hpp"
#include "core/resilience/telemetry.hpp"

using namespace cqrs::core;
using namespace cqrs::core::resilience;
using namespace std::chrono_literals;

namespace {

// Small numbers so each test reads as arithmetic: window of 10, rates from 4 calls.
breaker_config small_breaker() {
  breaker_config c;
  c.window = window_type::count_based;
  c.window_size = 10;
  c.minimum_calls = 4;
  c.failure_rate_threshold = 50;
  c.slow_call_rate_threshold = 100;
  c.slow_call_duration = 1000ms;
  c.wait_in_open = 10s;
  c.half_open_calls = 3;
  c.half_open_max_wait = 30s;
  return c;
}

struct fixture {
  std::shared_ptr<manual_clock> clock = std::make_shared<manual_clock>();
  metrics_registry registry;
  logger log{"test", log_level::error};
  telemetry metrics{"payment_provider", registry, log, 3};
  circuit_breaker breaker;

  explicit fixture(breaker_config config = small_breaker()) : breaker(config, clock, &metrics) {}

  bool call(call_kind kind, duration took = 1ms) {
    auto admission = breaker.try_acquire();
    if (std::holds_alternative<refusal>(admission)) return false;
    clock->advance(took);
    breaker.record(std::get<circuit_breaker::permit>(admission), kind);
    return true;
  }
  void calls(int n, call_kind kind) {
    for (int i = 0; i < n; ++i) REQUIRE(call(kind));
  }
  void trip() {
    calls(2, call_kind::success);
    calls(2, call_kind::failure);
    REQUIRE(breaker.state() == circuit_state::open);
  }
  bool rendered(const std::string& line) const { return registry.render().find(line) != std::string::npos; }
};

}  // namespace

TEST_CASE("a closed breaker opens once the failure rate reaches the threshold over the minimum calls") {
  fixture f;
  f.calls(3, call_kind::failure);
  CHECK(f.breaker.state() == circuit_state::closed);  // 100 % but only 3 calls of the minimum 4
  f.calls(1, call_kind::success);                     // 3 of 4 failed: 75 %
  CHECK(f.breaker.state() == circuit_state::open);
}

TEST_CASE("a failure rate below the threshold keeps the breaker closed") {
  fixture f;
  f.calls(6, call_kind::success);
  f.calls(4, call_kind::failure);  // 40 %
  CHECK(f.breaker.state() == circuit_state::closed);
  CHECK(f.breaker.totals().failure_rate() == doctest::Approx(40));
}

TEST_CASE("an open breaker refuses with the rest of its wait, then lets probes through in half-open") {
  fixture f;
  f.trip();
  auto refused = f.breaker.try_acquire();
  REQUIRE(std::holds_alternative<refusal>(refused));
  CHECK(std::get<refusal>(refused).reason == refusal_reason::circuit_open);
  CHECK(std::get<refusal>(refused).retry_after == 10s);
  f.clock->advance(4s);
  CHECK(std::get<refusal>(f.breaker.try_acquire()).retry_after == 6s);
  f.clock->advance(6s);
  CHECK(f.breaker.state() == circuit_state::half_open);
  CHECK(f.rendered("cqrs_resilience_calls_total{name=\"payment_provider\",outcome=\"not_permitted\"} 2"));
}

TEST_CASE("half-open permits exactly its probes and closes when they succeed") {
  fixture f;
  f.trip();
  f.clock->advance(10s);
  std::vector<circuit_breaker::permit> probes;
  for (int i = 0; i < 3; ++i) probes.push_back(std::get<circuit_breaker::permit>(f.breaker.try_acquire()));
  CHECK(std::holds_alternative<refusal>(f.breaker.try_acquire()));  // a 4th: no
  f.breaker.record(probes[0], call_kind::success);
  f.breaker.record(probes[1], call_kind::success);
  CHECK(f.breaker.state() == circuit_state::half_open);  // waits for every probe
  f.breaker.record(probes[2], call_kind::failure);       // 1 of 3: 33 % < 50 %
  CHECK(f.breaker.state() == circuit_state::closed);
  CHECK(f.breaker.totals().calls == 0);  // a fresh window
}

TEST_CASE("a half-open probe that fails opens the breaker again") {
  fixture f;
  f.trip();
  f.clock->advance(10s);
  REQUIRE(f.call(call_kind::failure));
  REQUIRE(f.call(call_kind::failure));
  REQUIRE(f.call(call_kind::success));  // 2 of 3 failed
  CHECK(f.breaker.state() == circuit_state::open);
  CHECK(std::get<refusal>(f.breaker.try_acquire()).retry_after == 10s);  // a full new wait
}

TEST_CASE("probes that never report back open the breaker after the maximum wait in half-open") {
  fixture f;
  f.trip();
  f.clock->advance(10s);
  for (int i = 0; i < 3; ++i) REQUIRE(std::holds_alternative<circuit_breaker::permit>(f.breaker.try_acquire()));
  f.clock->advance(29s);
  CHECK(f.breaker.state() == circuit_state::half_open);
  f.clock->advance(1s);
  CHECK(f.breaker.state() == circuit_state::open);
  f.clock->advance(10s);  // and the cycle continues instead of sticking
  CHECK(f.breaker.state() == circuit_state::half_open);
  CHECK(std::holds_alternative<circuit_breaker::permit>(f.breaker.try_acquire()));
}

TEST_CASE("a half-open max wait of 0 means unbounded, as in resilience4j") {
  auto config = small_breaker();
  config.half_open_max_wait = 0ms;
  fixture f(config);
  f.trip();
  f.clock->advance(10s);
  REQUIRE(std::holds_alternative<circuit_breaker::permit>(f.breaker.try_acquire()));
  f.clock->advance(24h);
  CHECK(f.breaker.state() == circuit_state::half_open);
}

TEST_CASE("an ignored probe gives its slot to the next caller") {
  fixture f;
  f.trip();
  f.clock->advance(10s);
  std::vector<circuit_breaker::permit> probes;
  for (int i = 0; i < 3; ++i) probes.push_back(std::get<circuit_breaker::permit>(f.breaker.try_acquire()));
  f.breaker.record(probes[0], call_kind::ignored);
  CHECK(std::holds_alternative<circuit_breaker::permit>(f.breaker.try_acquire()));
}

TEST_CASE("declines are successes: a card processor answering 'declined' never trips the breaker") {
  fixture f;
  f.calls(10, call_kind::success);  // ten declines, classified as the provider answering
  f.calls(4, call_kind::failure);   // four timeouts: 4 of 10 in the window
  CHECK(f.breaker.state() == circuit_state::closed);
  CHECK(f.breaker.totals().failures == 4);
  f.calls(50, call_kind::ignored);  // abandoned calls are not counted at all
  CHECK(f.breaker.totals().calls == 10);
  CHECK(f.rendered("cqrs_resilience_calls_total{name=\"payment_provider\",outcome=\"ignored\"} 50"));
}

TEST_CASE("slow calls open the breaker at the slow-call rate, and count as slow in the metrics") {
  auto config = small_breaker();
  config.slow_call_rate_threshold = 75;
  fixture f(config);
  f.calls(1, call_kind::success);
  for (int i = 0; i < 2; ++i) REQUIRE(f.call(call_kind::success, 1000ms));  // at the threshold: slow
  CHECK(f.breaker.state() == circuit_state::closed);
  REQUIRE(f.call(call_kind::success, 2s));  // 3 of 4 slow: 75 %
  CHECK(f.breaker.state() == circuit_state::open);
  CHECK(f.rendered("cqrs_resilience_calls_total{name=\"payment_provider\",outcome=\"slow\"} 3"));
  CHECK(f.rendered("cqrs_resilience_calls_total{name=\"payment_provider\",outcome=\"successful\"} 1"));
}

TEST_CASE("a report from a call that started before a transition does not count in the new state") {
  fixture f;
  const auto straggler = std::get<circuit_breaker::permit>(f.breaker.try_acquire());
  f.trip();
  f.clock->advance(10s);
  REQUIRE(f.breaker.state() == circuit_state::half_open);
  f.breaker.record(straggler, call_kind::failure);
  CHECK(f.breaker.totals().calls == 0);
  CHECK(f.breaker.state() == circuit_state::half_open);
}

TEST_CASE("the state gauge holds one series per state, and each change is logged once") {
  std::array<int, 2> fds{};
  REQUIRE(::pipe(fds.data()) == 0);
  {
    auto clock = std::make_shared<manual_clock>();
    metrics_registry registry;
    const logger log("gateway", log_level::info, fds[1]);
    telemetry metrics("payment_provider", registry, log, 3);
    circuit_breaker breaker(small_breaker(), clock, &metrics);
    for (int i = 0; i < 4; ++i) breaker.record(std::get<circuit_breaker::permit>(breaker.try_acquire()), call_kind::failure);
    for (int i = 0; i < 5; ++i) CHECK(std::holds_alternative<refusal>(breaker.try_acquire()));
    const auto text = registry.render();
    CHECK(text.find("cqrs_resilience_circuit_state{name=\"payment_provider\",state=\"open\"} 1") != std::string::npos);
    CHECK(text.find("cqrs_resilience_circuit_state{name=\"payment_provider\",state=\"closed\"} 0") != std::string::npos);
    CHECK(text.find("cqrs_resilience_circuit_state{name=\"payment_provider\",state=\"half_open\"} 0") != std::string::npos);
    CHECK(text.find("cqrs_resilience_failure_rate{name=\"payment_provider\"} 100") != std::string::npos);
  }
  ::close(fds[1]);
  std::string out;
  std::array<char, 4096> buffer{};
  for (ssize_t n; (n = ::read(fds[0], buffer.data(), buffer.size())) > 0;) out.append(buffer.data(), static_cast<size_t>(n));
  ::close(fds[0]);
  CHECK(out.find("component=resilience") != std::string::npos);
  CHECK(out.find("name=payment_provider from=closed to=open") != std::string::npos);
  CHECK(out.find("to=open") == out.rfind("to=open"));  // once
}

TEST_CASE("a count window keeps exactly the last N calls") {
  sliding_window w(window_type::count_based, 4);
  const time_point t{};
  w.record(true, false, t);
  w.record(true, true, t);
  w.record(false, false, t);
  auto totals = w.record(false, false, t);
  CHECK(totals.calls == 4);
  CHECK(totals.failures == 2);
  CHECK(totals.slow == 1);
  totals = w.record(false, false, t);  // the first failure leaves
  CHECK(totals.calls == 4);
  CHECK(totals.failures == 1);
  totals = w.record(false, false, t);  // the slow failure leaves
  CHECK(totals.failures == 0);
  CHECK(totals.slow == 0);
  CHECK(totals.failure_rate() == 0);
}

TEST_CASE("a time window forgets each second as it passes out of the window") {
  sliding_window w(window_type::time_based, 3);
  const time_point start = time_point{} + 100s;
  w.record(true, false, start);
  w.record(true, false, start + 500ms);
  w.record(false, false, start + 1s);
  w.record(false, true, start + 2s);
  CHECK(w.totals(start + 2999ms).calls == 4);   // seconds 100, 101, 102
  CHECK(w.totals(start + 3s).calls == 2);       // second 100 has left
  CHECK(w.totals(start + 3s).failures == 0);
  CHECK(w.totals(start + 4s).calls == 1);
  CHECK(w.totals(start + 4s).slow == 1);
  CHECK(w.totals(start + 1h).calls == 0);       // a long silence empties it in one pass
  CHECK(w.record(true, false, start + 1h).failure_rate() == 100);
}

TEST_CASE("a time-based breaker counts only the calls of its last seconds") {
  auto config = small_breaker();
  config.window = window_type::time_based;
  config.window_size = 5;
  fixture f(config);
  f.calls(3, call_kind::failure);
  f.clock->advance(5s);  // those three age out
  f.calls(1, call_kind::failure);
  f.calls(3, call_kind::success);
  CHECK(f.breaker.state() == circuit_state::closed);  // 1 of 4
  CHECK(f.breaker.totals().failure_rate() == doctest::Approx(25));
}

TEST_CASE("many threads hammering one breaker: every call is counted once and the state stays whole") {
  auto config = small_breaker();
  config.window_size = 1000;
  config.minimum_calls = 1000;
  config.failure_rate_threshold = 100;  // never opens: the counts must add up exactly
  fixture f(config);
  constexpr int threads = 8;
  constexpr int per_thread = 20'000;
  std::atomic<int> refused{0};
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          auto admission = f.breaker.try_acquire();
          if (std::holds_alternative<refusal>(admission)) {
            refused.fetch_add(1);
            continue;
          }
          f.breaker.record(std::get<circuit_breaker::permit>(admission), (i + t) % 4 == 0 ? call_kind::failure : call_kind::success);
        }
      });
    }
  }
  CHECK(refused.load() == 0);
  const auto totals = f.breaker.totals();
  CHECK(totals.calls == 1000);
  const auto text = f.registry.render();
  CHECK(text.find("outcome=\"failed\"} " + std::to_string(threads * per_thread / 4)) != std::string::npos);
  CHECK(text.find("outcome=\"successful\"} " + std::to_string(threads * per_thread * 3 / 4)) != std::string::npos);
}

TEST_CASE("many threads tripping and probing a breaker: it opens, and every refusal is counted") {
  fixture f;
  constexpr int threads = 8;
  constexpr int per_thread = 5'000;
  std::atomic<long> permitted{0};
  std::atomic<long> refused{0};
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i) {
          auto admission = f.breaker.try_acquire();
          if (std::holds_alternative<refusal>(admission)) {
            refused.fetch_add(1);
            continue;
          }
          permitted.fetch_add(1);
          f.breaker.record(std::get<circuit_breaker::permit>(admission), call_kind::failure);
        }
      });
    }
  }
  CHECK(permitted.load() + refused.load() == threads * per_thread);
  CHECK(refused.load() > 0);
  CHECK(f.breaker.state() == circuit_state::open);
  const auto text = f.registry.render();
  CHECK(text.find("outcome=\"not_permitted\"} " + std::to_string(refused.load())) != std::string::npos);
  CHECK(text.find("outcome=\"failed\"} " + std::to_string(permitted.load())) != std::string::npos);
  CHECK(text.find("state=\"open\"} 1") != std::string::npos);
}
