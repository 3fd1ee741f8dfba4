// The card processor's circuit breaker at the order level, end to end over real HTTPS: orders
// placed through the gateway (POST /v1/orders), the order fulfilment process in a real
// cqrs-processes calling a real cqrs-payment-provider whose faults the test injects
// (PUT /_admin/faults). Each scenario starts a cqrs-processes of its own with a small breaker
// (CQRS_RESILIENCE_PAYMENT_PROVIDER_*: four calls decide, a few seconds open), so that:
//   - errors at 100 %: the breaker opens after the minimum calls; later orders are still accepted
//     (202) and parked at `stock_reserved`, never failed, never charged; the provider recovers, the
//     breaker probes (half-open) and closes, and every parked order is paid, charged once;
//   - slow answers open it through the slow-call rate; a hang is cut by the time limit (the
//     calls fail and the breaker opens instead of the process waiting forever);
//   - a full bulkhead refuses the calls beyond it; they are parked and tried again, nothing lost;
// and the process's metrics file and log show it: cqrs_resilience_calls_total and
// cqrs_resilience_circuit_state of instance payment_provider, each state change logged once.
//
// With CQRS_RESILIENCE_FIGURES_FILE set, the errors scenario writes its figures there as
// `RESULT <key> <value>` lines (tools/bench resilience prints them as BENCH lines).

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/e2e_gateway/gateway_fixture.hpp"
#include "tests/e2e_orders/order_api.hpp"
#include "tests/e2e_orders/saga_harness.hpp"

namespace cqrs::tests {

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Until `condition` holds (true) or `limit` passes (false), asking every 100 ms.
bool within(std::chrono::milliseconds limit, const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return condition();
}

// A breaker that decides on four calls and stays open three seconds, two probes in half-open; two
// attempts per call with short backoffs. `more` over these.
environment small_breaker(const environment& more) {
  const std::map<std::string, std::string> base = {
      {"WINDOW_SIZE", "10"},      {"MINIMUM_CALLS", "4"},       {"FAILURE_RATE", "50"},
      {"SLOW_CALL_RATE", "100"},  {"SLOW_CALL_MS", "10000"},    {"OPEN_WAIT_MS", "3000"},
      {"HALF_OPEN_CALLS", "2"},   {"CALL_TIMEOUT_MS", "3000"},  {"MAX_ATTEMPTS", "2"},
      {"BACKOFF_INITIAL_MS", "50"}, {"BACKOFF_MAX_MS", "100"}, {"RETRY_DEADLINE_MS", "10000"}};
  std::map<std::string, std::string> merged = base;
  for (const auto& [key, value] : more) merged[key] = value;
  environment env;
  for (const auto& [key, value] : merged) env.emplace_back("CQRS_RESILIENCE_PAYMENT_PROVIDER_" + key, value);
  return env;
}

// A card processor and a cqrs-processes calling it with `breaker` settings, for one test case.
// The consumer group is the binary's: a later scenario's process starts where the last one
// stopped, not at the topic's beginning.
class resilient_saga {
 public:
  resilient_saga(engine_processes& engine, const std::string& scenario, const environment& breaker,
                 const environment& runtime = {})
      : stem_(fmt::format("{}/e2e-resilience-{}-{}", stack_env("CQRS_STACK_DIR"), run_id(), scenario)),
        saga_(webhooks_to(engine), "resilience" + run_id(), stem_ + ".log", processes_settings(breaker, runtime)) {
    const bool closed = within(30s, [&] { return metric(R"(cqrs_resilience_circuit_state{name="payment_provider",state="closed"})") == 1; });
    INFO(diagnostics());
    REQUIRE_MESSAGE(closed, "cqrs-processes wrote no closed breaker to its metrics file");
  }

  std::string metrics_file() const { return stem_ + ".metrics"; }

  // A series of the process's metrics file (`name{labels}` exactly as written), if present.
  std::optional<double> metric(const std::string& series) const {
    std::istringstream lines(read_text(metrics_file()));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
        return std::stod(line.substr(series.size() + 1));
      }
    }
    return std::nullopt;
  }
  double calls(const std::string& outcome) const {
    return metric(fmt::format(R"(cqrs_resilience_calls_total{{name="payment_provider",outcome="{}"}})", outcome)).value_or(0);
  }
  bool state_is(const std::string& state) const {
    return metric(fmt::format(R"(cqrs_resilience_circuit_state{{name="payment_provider",state="{}"}})", state)) == 1;
  }
  double parked_actions() const { return metric(R"(cqrs_processes_actions_total{outcome="parked"})").value_or(0); }

  // Lines of the process's log that record the breaker's change `from` -> `to`.
  int state_changes(const std::string& from, const std::string& to) const {
    std::istringstream lines(read_text(stem_ + ".log"));
    std::string line;
    int count = 0;
    const auto change = fmt::format("name=payment_provider from={} to={}", from, to);
    while (std::getline(lines, line)) {
      if (line.find("component=") != std::string::npos && line.find("resilience") != std::string::npos &&
          line.find("circuit breaker state change") != std::string::npos && line.find(change) != std::string::npos) {
        ++count;
      }
    }
    return count;
  }
  int opens() const { return state_changes("closed", "open") + state_changes("half_open", "open"); }

  std::vector<json::object> ledger(const std::string& payment_id) const { return saga_.ledger(payment_id); }

  void faults(const std::string& body) const { REQUIRE(saga_.faults(body) == 200); }

  std::string diagnostics() const { return saga_.diagnostics() + "\n--- metrics\n" + read_text(metrics_file()); }

 private:
  // Quick retries of the saga's actions, a metrics file, then `breaker` and `runtime`.
  environment processes_settings(const environment& breaker, const environment& runtime) const {
    environment env{{"CQRS_PROCESSES_BACKOFF_MS", "100"},
                    {"CQRS_PROCESSES_MAX_BACKOFF_MS", "1000"},
                    {"CQRS_PROCESSES_METRICS_FILE", metrics_file()}};
    env.insert(env.end(), breaker.begin(), breaker.end());
    env.insert(env.end(), runtime.begin(), runtime.end());
    return env;
  }

  std::string stem_;
  saga_harness saga_;
};


struct resilience_fixture : gateway_fixture {
  order_api orders{engine};
  session admin = orders.staff("admin");
  session alice = orders.customer();
  std::string product = orders.product(1000, 990);

  std::optional<json::object> read(const std::string& id) {
    const auto answer = orders.send(admin, "GET", "/v1/orders/" + id);
    if (answer.status != 200) return std::nullopt;
    return answer.json().as_object();
  }
  std::string status(const std::string& id) {
    const auto order = read(id);
    return order ? text_at(*order, "status") : std::string("unknown");
  }

  // Every order of `ids` in `wanted`, within `limit`; a FAIL naming the first that is not.
  void all_reach(const std::vector<std::string>& ids, const std::string& wanted, const resilient_saga& saga,
                 std::chrono::milliseconds limit = 60s) {
    for (const auto& id : ids) {
      const bool reached = within(limit, [&] { return status(id) == wanted; });
      if (!reached) FAIL("order " << id << " is " << status(id) << ", not " << wanted << "\n" << saga.diagnostics());
    }
  }

  std::string payment_of(const std::string& id) {
    const auto order = read(id);
    REQUIRE(order);
    return text_at(order->at("payment").as_object(), "id");
  }

  // Places `count` orders (each answered 202); their ids.
  std::vector<std::string> place(int count) {
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i) ids.push_back(orders.placed(alice, {{product, 1}}));
    return ids;
  }

  // Each order of `ids` paid, with exactly one ledger entry, captured; the most entries of one.
  std::size_t charged_once(const std::vector<std::string>& ids, const resilient_saga& saga) {
    std::size_t most = 0;
    for (const auto& id : ids) {
      const auto entries = saga.ledger(payment_of(id));
      most = std::max(most, entries.size());
      INFO("order " << id);
      REQUIRE(entries.size() == 1);
      CHECK(text_at(entries[0], "status") == "captured");
      CHECK(entries[0].at("amount").to_number<std::int64_t>() == 990);
    }
    return most;
  }

  // While the breaker is open: every order of `ids` stays `stock_reserved` (none failed) and none
  // is charged.
  void parked_uncharged(const std::vector<std::string>& ids, const resilient_saga& saga) {
    for (const auto& id : ids) {
      INFO("order " << id << "\n" << saga.diagnostics());
      CHECK(status(id) == "stock_reserved");
      CHECK(saga.ledger(payment_of(id)).empty());
    }
  }
};

void write_figures(const std::map<std::string, double>& figures) {
  const char* path = std::getenv("CQRS_RESILIENCE_FIGURES_FILE");
  if (path == nullptr || *path == '\0') return;
  std::ofstream out(path, std::ios::app);
  for (const auto& [key, value] : figures) out << fmt::format("RESULT {} {:g}\n", key, value);
}

}  // namespace

TEST_CASE_FIXTURE(resilience_fixture, "errors at 100 %: the breaker opens, later orders park unpaid and uncharged, "
                                      "then after recovery each is paid and charged once") {
  resilient_saga saga(engine, "errors", small_breaker({}));
  saga.faults(R"({"error_rate": 1})");

  // The first orders' charges fail (two attempts each): the breaker opens after four calls.
  auto ids = place(3);
  const bool opened = within(60s, [&] { return saga.state_is("open"); });
  REQUIRE_MESSAGE(opened, saga.diagnostics());
  // The metrics file is a snapshot: the open state may be written before the call that opened it
  // is counted, so the four failures are waited for, not read once.
  const bool counted = within(10s, [&] { return saga.calls("failed") >= 4; });
  CHECK_MESSAGE(counted, "failed calls counted: " << saga.calls("failed"));

  // Orders placed while it is open are still accepted (202: placed() requires it) and parked.
  const auto later = place(3);
  ids.insert(ids.end(), later.begin(), later.end());
  all_reach(ids, "stock_reserved", saga);
  const bool refused = within(60s, [&] { return saga.calls("not_permitted") >= 3 && saga.parked_actions() >= 3; });
  CHECK_MESSAGE(refused, saga.diagnostics());
  parked_uncharged(ids, saga);
  // The breaker is cqrs-processes' business: the gateway stays ready while it refuses calls.
  CHECK_FALSE(saga.state_is("closed"));
  const auto ready = http.get("/readyz");
  INFO(describe(ready));
  CHECK(ready.status == 200);
  const int parked = static_cast<int>(std::count_if(ids.begin(), ids.end(), [&](const auto& id) { return status(id) == "stock_reserved"; }));

  // The provider recovers: half-open probes succeed, the breaker closes, every order is paid once.
  saga.faults("{}");
  const auto recovered = std::chrono::steady_clock::now();
  all_reach(ids, "paid", saga, 90s);
  const auto recovery_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - recovered).count();
  const auto most = charged_once(ids, saga);
  const bool closed = within(30s, [&] { return saga.state_is("closed"); });
  CHECK_MESSAGE(closed, saga.diagnostics());

  CHECK(saga.calls("successful") >= static_cast<double>(ids.size()));
  CHECK(saga.state_changes("closed", "open") == 1);
  CHECK(saga.state_changes("open", "half_open") >= 1);
  CHECK(saga.state_changes("half_open", "closed") == 1);
  write_figures({{"orders_placed", static_cast<double>(ids.size())},
                 {"orders_parked", static_cast<double>(parked)},
                 {"orders_completed_after_recovery", static_cast<double>(ids.size())},
                 {"max_charges_per_order", static_cast<double>(most)},
                 {"breaker_opens", static_cast<double>(saga.opens())},
                 {"order_calls_failed", saga.calls("failed")},
                 {"order_calls_not_permitted", saga.calls("not_permitted")},
                 {"order_calls_successful", saga.calls("successful")},
                 {"order_recovery_ms", std::round(recovery_ms)}});
}

TEST_CASE_FIXTURE(resilience_fixture, "slow answers open the breaker through the slow-call rate; the orders after it park, "
                                      "then are paid once each") {
  // Every call takes 400 ms, slow from 200 ms: half of four slow calls open it; no call fails.
  resilient_saga saga(engine, "slow", small_breaker({{"SLOW_CALL_MS", "200"}, {"SLOW_CALL_RATE", "50"}}));
  saga.faults(R"({"latency_ms": 400})");
  auto ids = place(4);
  const bool opened = within(60s, [&] { return saga.state_is("open"); });
  REQUIRE_MESSAGE(opened, saga.diagnostics());
  CHECK(saga.calls("slow") >= 2);
  CHECK(saga.state_changes("closed", "open") == 1);

  const auto later = place(2);
  all_reach(later, "stock_reserved", saga);
  saga.faults("{}");
  ids.insert(ids.end(), later.begin(), later.end());
  all_reach(ids, "paid", saga, 90s);
  charged_once(ids, saga);
  const bool closed = within(30s, [&] { return saga.state_is("closed"); });
  CHECK_MESSAGE(closed, saga.diagnostics());
  CHECK(saga.state_changes("closed", "open") == 1);
  CHECK(saga.state_changes("half_open", "closed") == 1);
}

TEST_CASE_FIXTURE(resilience_fixture, "a hanging provider is cut by the time limit: the calls fail, the breaker opens, "
                                      "nothing is charged until it answers again") {
  // Each attempt may last 700 ms; the provider holds every call open and never answers.
  resilient_saga saga(engine, "hang", small_breaker({{"CALL_TIMEOUT_MS", "700"}, {"MAX_ATTEMPTS", "1"}}));
  saga.faults(R"({"hang_rate": 1})");
  const auto ids = place(4);
  // Only calls that ended count: four hung calls cut by their deadline open the breaker.
  const bool opened = within(60s, [&] { return saga.state_is("open"); });
  REQUIRE_MESSAGE(opened, saga.diagnostics());
  CHECK(saga.calls("failed") >= 4);
  all_reach(ids, "stock_reserved", saga);
  parked_uncharged(ids, saga);

  saga.faults("{}");
  all_reach(ids, "paid", saga, 90s);
  charged_once(ids, saga);
  CHECK(saga.state_changes("closed", "open") == 1);
}

TEST_CASE_FIXTURE(resilience_fixture, "a full bulkhead refuses the calls beyond it and loses nothing: each order is "
                                      "paid, charged once") {
  // One call at a time, none waiting, four workers, every answer 300 ms late: concurrent charges
  // beyond the first are refused by the bulkhead (never sent) and parked, then tried again.
  resilient_saga saga(engine, "bulkhead", small_breaker({{"BULKHEAD_MAX_CONCURRENT", "1"}, {"BULKHEAD_QUEUE", "0"}}),
                      {{"CQRS_PROCESSES_WORKERS", "4"}});
  saga.faults(R"({"latency_ms": 300})");
  std::vector<std::string> ids;
  const auto rejected = [&] {
    return saga.metric(R"(cqrs_resilience_bulkhead_rejected_total{name="payment_provider"})").value_or(0) > 0;
  };
  while (ids.size() < 16 && !rejected()) {
    const auto more = place(4);
    ids.insert(ids.end(), more.begin(), more.end());
    std::this_thread::sleep_for(500ms);
  }
  const bool refused = within(30s, rejected);
  REQUIRE_MESSAGE(refused, saga.diagnostics());
  saga.faults("{}");
  all_reach(ids, "paid", saga, 90s);
  charged_once(ids, saga);
  CHECK(saga.state_changes("closed", "open") == 0);
}

}  // namespace cqrs::tests
