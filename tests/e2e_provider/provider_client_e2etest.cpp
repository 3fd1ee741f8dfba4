// The engine's client of the card processor (commands/payment_provider) against a real
// cqrs-payment-provider over HTTPS, with injected faults: the resilience instance
// `payment_provider` as wired (bulkhead -> retry -> breaker -> time limit -> call), with small
// windows and waits so that each scenario takes a moment.

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "commands/payment_provider/provider_client.hpp"
#include "core/log.hpp"
#include "tests/e2e_payment/provider_harness.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs::commands::payment_provider;
using namespace cqrs::tests::payment;
using namespace std::chrono_literals;
namespace res = cqrs::core::resilience;
using cqrs::schemas::money;
using res::circuit_state;

namespace {

const money eur_25{2500, cqrs::schemas::currency_code("EUR")};

// Small numbers for every setting the scenarios exercise.
client_config config_for(const provider_process& p) {
  client_config c;
  c.url = fmt::format("https://127.0.0.1:{}", p.port());
  c.ca_file = cqrs::tests::stack_setting("CQRS_TLS_CA_FILE");
  auto& r = c.resilience;
  r.breaker.window_size = 10;
  r.breaker.minimum_calls = 4;
  r.breaker.failure_rate_threshold = 50;
  r.breaker.slow_call_rate_threshold = 50;
  r.breaker.slow_call_duration = 2000ms;
  r.breaker.wait_in_open = 300ms;
  r.breaker.half_open_calls = 2;
  r.breaker.half_open_max_wait = 5000ms;
  r.retry.max_attempts = 3;
  r.retry.initial_backoff = 10ms;
  r.retry.max_backoff = 20ms;
  r.retry.total_deadline = 10'000ms;
  r.bulkhead.max_concurrent = 4;
  r.time_limit.call_timeout = 2000ms;
  return c;
}

const cqrs::core::logger& quiet() {
  static const cqrs::core::logger log("e2e-provider", cqrs::core::log_level::error);
  return log;
}

void set_faults(const provider_process& p, const std::string& faults) {
  const auto r = call(p.port(), "PUT", "/_admin/faults", faults);
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

boost::json::array ledger(const provider_process& p) {
  const auto r = call(p.port(), "GET", "/_admin/ledger");
  REQUIRE(r.status == 200);
  return r.json().at("charges").as_array();
}

// How many calls met a fault of this kind at the provider (its log has one line for each).
std::size_t faults_met(const provider_process& p, std::string_view kind) {
  const auto log = p.log();
  const auto needle = fmt::format("msg=fault kind={}", kind);
  std::size_t count = 0;
  for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++count;
  return count;
}

charge_answer answered(const call_result& result) {
  if (const auto* failed = std::get_if<transient>(&result)) FAIL("transient: " << failed->why);
  return std::get<charge_answer>(result);
}

transient failed(const call_result& result) {
  REQUIRE_MESSAGE(std::holds_alternative<transient>(result), "a definitive answer");
  return std::get<transient>(result);
}

// A charge of 25 EUR on the approving test card, under the payment's charge key.
call_result charge_ok(provider_client& client, const std::string& payment) {
  return client.charge(payment, eur_25, "tok_ok", charge_key(payment));
}

bool has_line(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

}  // namespace

TEST_CASE("charge, capture, refund and find go over HTTPS with their keys and the payment id as metadata") {
  const provider_process p;
  provider_client client(config_for(p), quiet());
  const auto authorized = answered(charge_ok(client, "payment-a"));
  CHECK(authorized.status == charge_status::authorized);
  CHECK(answered(client.capture("payment-a", authorized.charge_id, capture_key("payment-a"))).status ==
        charge_status::captured);
  CHECK(answered(client.refund("payment-a", authorized.charge_id, "r1", money{500, eur_25.currency},
                               refund_key("payment-a", "r1")))
            .status == charge_status::partially_refunded);
  const auto found = client.find_charge(charge_key("payment-a"));
  REQUIRE(std::holds_alternative<std::optional<charge_answer>>(found));
  REQUIRE(std::get<std::optional<charge_answer>>(found).has_value());
  CHECK(std::get<std::optional<charge_answer>>(found)->charge_id == authorized.charge_id);
  CHECK_FALSE(std::get<std::optional<charge_answer>>(client.find_charge(charge_key("payment-none"))).has_value());

  const auto other = answered(charge_ok(client, "payment-b"));
  CHECK(answered(client.void_charge("payment-b", other.charge_id, void_key("payment-b"))).status == charge_status::voided);

  const auto entries = ledger(p);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].at("payment_id").as_string() == "payment-a");
  CHECK(entries[0].at("idempotency_key").as_string() == "payment-a:charge");
  CHECK(entries[0].at("currency").as_string() == "eur");
  CHECK(entries[1].at("status").as_string() == "voided");
}

TEST_CASE("a decline is a definitive answer and a successful call for the breaker") {
  const provider_process p;
  provider_client client(config_for(p), quiet());
  for (int i = 0; i < 6; ++i) {
    const auto id = fmt::format("payment-d{}", i);
    const auto declined = answered(client.charge(id, eur_25, "tok_decline", charge_key(id)));
    CHECK(declined.status == charge_status::declined);
    CHECK(declined.decline_code == "card_declined");
  }
  CHECK(client.resilience().breaker().state() == circuit_state::closed);
  CHECK(has_line(client.metrics_text(), R"(cqrs_resilience_calls_total{name="payment_provider",outcome="successful"} 6)"));
}

TEST_CASE("lost answers are retried with the same key: the retried charge is one ledger entry") {
  const provider_process p;
  provider_client client(config_for(p), quiet());
  set_faults(p, R"({"lose_answer_rate": 1})");
  const auto lost = failed(charge_ok(client, "payment-l"));
  CHECK_FALSE(lost.not_permitted);
  CHECK(lost.why.find("closed_without_answer") != std::string::npos);
  CHECK(faults_met(p, "lose_answer") == 3);  // every attempt reached the provider
  set_faults(p, "{}");
  const auto charged = answered(charge_ok(client, "payment-l"));
  CHECK(charged.status == charge_status::authorized);
  const auto entries = ledger(p);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].at("id").as_string() == charged.charge_id);
  const auto metrics = client.metrics_text();
  CHECK(has_line(metrics, R"(cqrs_resilience_retries_total{name="payment_provider",attempt="2"} 1)"));
  CHECK(has_line(metrics, R"(cqrs_resilience_retries_total{name="payment_provider",attempt="3"} 1)"));
}

TEST_CASE("5xx answers open the breaker after the minimum calls; open, it answers not_permitted without a call") {
  const provider_process p;
  provider_client client(config_for(p), quiet());
  set_faults(p, R"({"error_rate": 1})");
  // Three attempts per charge: the fourth failure (the second charge's first attempt) opens it.
  const auto first = failed(charge_ok(client, "payment-e1"));
  CHECK_FALSE(first.not_permitted);
  CHECK(first.why.find("500") != std::string::npos);
  const auto second = failed(charge_ok(client, "payment-e2"));
  CHECK(second.not_permitted);
  CHECK(client.resilience().breaker().state() == circuit_state::open);
  const auto reached = faults_met(p, "error");
  CHECK(reached == 4);

  for (int i = 0; i < 5; ++i) {
    const auto refused = failed(charge_ok(client, "payment-e3"));
    CHECK(refused.not_permitted);
    REQUIRE(refused.refused.has_value());
    CHECK(refused.refused->reason == res::refusal_reason::circuit_open);
  }
  CHECK(faults_met(p, "error") == reached);  // nothing reached the provider
  CHECK(ledger(p).empty());
  const auto metrics = client.metrics_text();
  CHECK(has_line(metrics, R"(cqrs_resilience_circuit_state{name="payment_provider",state="open"} 1)"));
  CHECK(has_line(metrics, R"(cqrs_resilience_calls_total{name="payment_provider",outcome="failed"} 4)"));
  CHECK(has_line(metrics, R"(cqrs_resilience_calls_total{name="payment_provider",outcome="not_permitted"} 6)"));
}

TEST_CASE("after the wait in open, successful probes in half-open close the breaker") {
  const provider_process p;
  provider_client client(config_for(p), quiet());
  set_faults(p, R"({"error_rate": 1})");
  (void)charge_ok(client, "payment-r1");
  (void)charge_ok(client, "payment-r2");
  REQUIRE(client.resilience().breaker().state() == circuit_state::open);
  set_faults(p, "{}");
  REQUIRE(cqrs::tests::eventually([&] { return client.resilience().breaker().state() == circuit_state::half_open; }, 5s));
  CHECK(answered(charge_ok(client, "payment-r3")).status ==
        charge_status::authorized);
  CHECK(client.resilience().breaker().state() == circuit_state::half_open);  // one probe of two reported
  CHECK(answered(charge_ok(client, "payment-r4")).status ==
        charge_status::authorized);
  CHECK(client.resilience().breaker().state() == circuit_state::closed);
  CHECK(has_line(client.metrics_text(), R"(cqrs_resilience_circuit_state{name="payment_provider",state="closed"} 1)"));
}

TEST_CASE("answers slower than the slow-call threshold open the breaker though every one succeeded") {
  const provider_process p;
  auto config = config_for(p);
  config.resilience.breaker.slow_call_duration = 100ms;
  provider_client client(config, quiet());
  set_faults(p, R"({"latency_ms": 200})");
  for (int i = 0; i < 4; ++i) {
    const auto id = fmt::format("payment-s{}", i);
    CHECK(answered(charge_ok(client, id)).status == charge_status::authorized);
  }
  CHECK(client.resilience().breaker().state() == circuit_state::open);
  const auto metrics = client.metrics_text();
  CHECK(has_line(metrics, R"(cqrs_resilience_calls_total{name="payment_provider",outcome="slow"} 4)"));
  CHECK(has_line(metrics, R"(cqrs_resilience_slow_call_rate{name="payment_provider"} 100)"));
  CHECK(failed(charge_ok(client, "payment-s9")).not_permitted);
}

TEST_CASE("a provider that hangs: every attempt is cut by its time limit, the call ends within the bound") {
  const provider_process p;
  auto config = config_for(p);
  config.resilience.time_limit.call_timeout = 300ms;
  provider_client client(config, quiet());
  set_faults(p, R"({"hang_rate": 1})");
  const auto started = std::chrono::steady_clock::now();
  const auto hung = failed(charge_ok(client, "payment-h"));
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(hung.why.find("timed_out") != std::string::npos);
  CHECK_FALSE(hung.not_permitted);
  CHECK(faults_met(p, "hang") == 3);
  // Three attempts of 300 ms and two backoffs of at most 20 ms; generous for a loaded machine.
  CHECK(took < 3 * 300ms + 2 * 20ms + 2000ms);
  CHECK(ledger(p).empty());
}

TEST_CASE("a full bulkhead refuses at once with a typed refusal, reaching no provider") {
  const provider_process p;
  auto config = config_for(p);
  config.resilience.bulkhead.max_concurrent = 1;
  config.resilience.bulkhead.max_queue = 0;
  config.resilience.bulkhead.max_wait = 0ms;
  config.resilience.time_limit.call_timeout = 5000ms;
  provider_client client(config, quiet());
  set_faults(p, R"({"hang_rate": 1})");
  // Holds the one slot until its attempt is cut (its retry, faults cleared, succeeds).
  std::thread holder([&] { (void)charge_ok(client, "payment-b"); });
  REQUIRE(cqrs::tests::eventually([&] { return faults_met(p, "hang") == 1; }, 5s));
  const auto refused = failed(charge_ok(client, "payment-c"));
  CHECK(refused.not_permitted);
  REQUIRE(refused.refused.has_value());
  CHECK(refused.refused->reason == res::refusal_reason::bulkhead_full);
  CHECK(faults_met(p, "hang") == 1);
  set_faults(p, "{}");
  holder.join();
  CHECK(has_line(client.metrics_text(), R"(cqrs_resilience_bulkhead_rejected_total{name="payment_provider"} 1)"));
}

TEST_CASE("a provider whose certificate does not chain to the configured CA is never sent a request") {
  const provider_process p;
  const test_certificates other_ca;
  auto config = config_for(p);
  config.ca_file = other_ca.ca_file();
  provider_client client(config, quiet());
  const auto refused = failed(charge_ok(client, "payment-t"));
  CHECK(refused.why.find("tls_failed") != std::string::npos);
  CHECK(ledger(p).empty());
}
