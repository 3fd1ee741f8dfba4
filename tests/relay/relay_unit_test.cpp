// The relay's pure parts: how far the checkpoint may go, what a message carries, which producer
// settings it insists on, how its settings are validated; and core's metrics registry.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "commands/relay/delivery_tracker.hpp"
#include "commands/relay/message_format.hpp"
#include "commands/relay/relay_config.hpp"
#include "core/metrics.hpp"

using namespace cqrs;
using commands::relay::delivery_tracker;

namespace {

core::log_position at(std::uint64_t seq) { return core::log_position{100, seq}; }

std::vector<core::log_position> positions(const std::vector<commands::relay::confirmed_event>& events) {
  std::vector<core::log_position> out;
  for (const auto& e : events) out.push_back(e.position);
  return out;
}

core::recorded_event sample_event() {
  core::recorded_event event{.stream = core::stream_id::parse("orders-42").value(),
                             .id = core::event_id::parse("0f5c7b5c-cde5-477a-b651-61467fd94d51").value()};
  event.position = core::log_position{0x2d9, 0x1f};
  event.version = core::stream_version{7};
  event.type = "orders.placed";
  event.schema_version = 2;
  event.payload = std::string("\x00\x01payload", 9);
  event.recorded_at = core::timestamp{std::chrono::microseconds{1700000000123456}};
  event.metadata.correlation_id = "corr-9";
  return event;
}

std::map<std::string, std::string> as_map(const commands::relay::event_headers& headers) {
  std::map<std::string, std::string> out;
  for (const auto& h : headers.all()) out.emplace(h.name, h.value);
  return out;
}

core::settings_source settings(std::map<std::string, std::string> env) {
  env.emplace("CQRS_PG_URL", "postgresql://u@h/db");
  env.emplace("CQRS_KAFKA_BOOTSTRAP", "127.0.0.1:9092");
  return core::settings_source(std::move(env), {});
}

std::string value_of(const core::key_values& properties, const std::string& key) {
  std::string found;
  for (const auto& [k, v] : properties) {
    if (k == key) found = v;  // the last one wins, as in librdkafka
  }
  return found;
}

}  // namespace

TEST_CASE("the checkpoint moves only over a confirmed prefix, whatever order acknowledgements come in") {
  delivery_tracker tracker;
  const auto t1 = tracker.enqueue(at(1), {});
  const auto t2 = tracker.enqueue(at(2), {});
  const auto t3 = tracker.enqueue(at(3), {});
  tracker.delivered(t3);
  tracker.delivered(t2);
  CHECK(tracker.take_confirmed().empty());  // 1 is still out: nothing may be confirmed
  tracker.delivered(t1);
  CHECK(positions(tracker.take_confirmed()) == std::vector{at(1), at(2), at(3)});
  CHECK(tracker.in_flight() == 0);
}

TEST_CASE("a failed delivery is never confirmed, so the checkpoint can never pass it") {
  delivery_tracker tracker;
  const auto t1 = tracker.enqueue(at(1), {});
  const auto t2 = tracker.enqueue(at(2), {});
  const auto t3 = tracker.enqueue(at(3), {});
  tracker.delivered(t1);
  tracker.failed(t2, "Local: Purged in queue");
  tracker.delivered(t3);
  CHECK(positions(tracker.take_confirmed()) == std::vector{at(1)});
  CHECK(tracker.take_confirmed().empty());
  REQUIRE(tracker.failure().has_value());
  CHECK(*tracker.failure() == "Local: Purged in queue");
}

TEST_CASE("the tracker refuses positions out of log order, forgets a refused message and ignores unknown tickets") {
  delivery_tracker tracker;
  (void)tracker.enqueue(at(5), {});
  CHECK_THROWS_AS((void)tracker.enqueue(at(5), {}), std::logic_error);
  const auto t6 = tracker.enqueue(at(6), {});
  tracker.cancel_last();
  CHECK(tracker.in_flight() == 1);
  tracker.delivered(t6 + 100);
  tracker.delivered(t6);  // cancelled: nothing to mark
  CHECK(tracker.take_confirmed().empty());
}

namespace {

// A waiter blocked with a limit far longer than the test's deadline: it returns in time only if
// the call under test wakes it. The call is repeated until the waiter is back, because the waiter
// may not be waiting yet when it is first made (only a report during the wait counts as progress).
template <class Report>
bool wakes_a_waiter(delivery_tracker& tracker, Report report) {
  std::atomic<bool> back = false;
  std::thread waiter([&] {
    tracker.wait_for_progress(std::chrono::minutes{2});
    back = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (!back && std::chrono::steady_clock::now() < deadline) {
    report();
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  const bool woken = back;
  if (!woken) {
    // Not woken: release it as a delivery report would, so the test ends with a failure, not a hang.
    while (!back) {
      tracker.delivered(std::numeric_limits<commands::relay::ticket>::max());  // unknown: marks nothing
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
  }
  waiter.join();
  return woken;
}

}  // namespace

TEST_CASE("a fatal producer error stops confirmation and wakes a waiter") {
  delivery_tracker tracker;
  (void)tracker.enqueue(at(1), {});
  CHECK(wakes_a_waiter(tracker, [&] { tracker.fail("fatal: gap-less guarantee"); }));
  // Only the first failure is kept, however often one is reported.
  tracker.fail("a later failure");
  CHECK(tracker.failure().value() == "fatal: gap-less guarantee");
  CHECK(tracker.take_confirmed().empty());
  CHECK(tracker.oldest_in_flight().has_value());
}

TEST_CASE("a delivery report and a failed delivery each wake a waiter") {
  delivery_tracker tracker;
  const auto t1 = tracker.enqueue(at(1), {});
  const auto t2 = tracker.enqueue(at(2), {});
  CHECK(wakes_a_waiter(tracker, [&] { tracker.delivered(t1); }));
  CHECK(positions(tracker.take_confirmed()) == std::vector{at(1)});
  CHECK(wakes_a_waiter(tracker, [&] { tracker.failed(t2, "Local: Message timed out"); }));
  CHECK(tracker.take_confirmed().empty());
  CHECK(tracker.oldest_in_flight().has_value());
  CHECK(tracker.failure().value() == "Local: Message timed out");
}

TEST_CASE("a message carries the event's identity and log position as headers") {
  const auto event = sample_event();
  const commands::relay::event_headers headers(event);
  const auto h = as_map(headers);
  CHECK(h.at("event-id") == event.id.to_string());
  CHECK(h.at("event-type") == "orders.placed");
  CHECK(h.at("schema-version") == "2");
  CHECK(h.at("stream-id") == "orders-42");
  CHECK(h.at("stream-version") == "7");
  CHECK(h.at("log-position") == event.position.token());
  CHECK(h.at("recorded-at") == "1700000000123456");
  CHECK(h.at("correlation-id") == "corr-9");
  CHECK(h.count("causation-id") == 0);
  CHECK(commands::relay::key_for(event) == "orders-42");
  CHECK(commands::relay::value_for(event) == event.payload);
}

TEST_CASE("header positions compare like positions, as consumers dropping resends rely on") {
  auto a = sample_event();
  auto b = sample_event();
  b.position = core::log_position{0x2d9, 0x100};
  const commands::relay::event_headers ha(a);
  const commands::relay::event_headers hb(b);
  CHECK(as_map(ha).at("log-position") < as_map(hb).at("log-position"));
}

TEST_CASE("the producer insists on idempotence, acks=all, the gap-less guarantee and no local timeout") {
  auto options = commands::relay::load_relay_config(settings({{"CQRS_KAFKA_PROPERTIES", "linger.ms=20,client.id=x"}})).relay;
  const auto properties = commands::relay::producer_properties(options);
  CHECK(value_of(properties, "enable.idempotence") == "true");
  CHECK(value_of(properties, "acks") == "all");
  CHECK(value_of(properties, "enable.gapless.guarantee") == "true");
  CHECK(value_of(properties, "message.timeout.ms") == "0");
  CHECK(value_of(properties, "linger.ms") == "20");  // tuning passes through
  options.kafka.properties = {{"acks", "1"}};
  CHECK_THROWS_AS((void)commands::relay::producer_properties(options), core::config_error);
  options.kafka.properties = {{"delivery.timeout.ms", "30000"}};
  CHECK_THROWS_AS((void)commands::relay::producer_properties(options), core::config_error);
  options.kafka.properties = {{"acks", "-1"}};
  CHECK_NOTHROW((void)commands::relay::producer_properties(options));
}

TEST_CASE("relay settings are validated and a wrong one names its variable") {
  const auto config = commands::relay::load_relay_config(settings({{"CQRS_RELAY_BATCH", "500"}, {"CQRS_RELAY_NAME", "eu-1"}}));
  CHECK(config.relay.batch == 500);
  CHECK(config.relay.name == "eu-1");
  CHECK(config.relay.kafka.topic == "events");
  for (const auto& [variable, value] : std::map<std::string, std::string>{{"CQRS_RELAY_BATCH", "0"},
                                                                           {"CQRS_RELAY_POLL_MS", "x"},
                                                                           {"CQRS_RELAY_NAME", "a b"},
                                                                           {"CQRS_RELAY_START_POSITION", "zz"},
                                                                           {"CQRS_RELAY_MAX_IN_FLIGHT", "5"}}) {
    CAPTURE(variable);
    try {
      (void)commands::relay::load_relay_config(settings({{variable, value}}));
      FAIL("accepted " << variable << "=" << value);
    } catch (const core::config_error& e) {
      CHECK(e.variable() == variable);
    }
  }
}

TEST_CASE("the metrics registry renders counters, gauges and histograms in Prometheus text") {
  core::metrics_registry registry;
  auto& events = registry.make_counter("cqrs_test_events_total", "Events seen", {{"relay", "main"}});
  events.increment(3);
  CHECK(&registry.make_counter("cqrs_test_events_total", "Events seen", {{"relay", "main"}}) == &events);
  registry.make_gauge("cqrs_test_lag_seconds", "Lag").set(0.25);
  auto& latency = registry.make_histogram("cqrs_test_latency_seconds", "Latency", {0.01, 0.1});
  latency.observe(0.005);
  latency.observe(0.01);
  latency.observe(5);
  const auto text = registry.render();
  CHECK(text.find("# TYPE cqrs_test_events_total counter\ncqrs_test_events_total{relay=\"main\"} 3\n") != std::string::npos);
  CHECK(text.find("cqrs_test_lag_seconds 0.25\n") != std::string::npos);
  CHECK(text.find("cqrs_test_latency_seconds_bucket{le=\"0.01\"} 2\n") != std::string::npos);
  CHECK(text.find("cqrs_test_latency_seconds_bucket{le=\"0.1\"} 2\n") != std::string::npos);
  CHECK(text.find("cqrs_test_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("cqrs_test_latency_seconds_count 3\n") != std::string::npos);
  CHECK(text.find("cqrs_test_latency_seconds_sum 5.015\n") != std::string::npos);
}

TEST_CASE("the metrics registry refuses bad names, type clashes and reserved labels, and escapes values") {
  core::metrics_registry registry;
  CHECK_THROWS_AS(registry.make_counter("1bad", "x"), std::invalid_argument);
  (void)registry.make_counter("cqrs_clash", "x");
  CHECK_THROWS_AS(registry.make_gauge("cqrs_clash", "x"), std::invalid_argument);
  CHECK_THROWS_AS(registry.make_histogram("cqrs_h", "x", {1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(registry.make_gauge("cqrs_g", "x", {{"le", "1"}}), std::invalid_argument);
  registry.make_gauge("cqrs_quoted", "say \"hi\"\\now", {{"path", "a\"b\\c\nd"}}).set(-1.5);
  const auto text = registry.render();
  CHECK(text.find("# HELP cqrs_quoted say \"hi\"\\\\now\n") != std::string::npos);
  CHECK(text.find("cqrs_quoted{path=\"a\\\"b\\\\c\\nd\"} -1.5\n") != std::string::npos);
  CHECK(core::format_metric_value(std::numeric_limits<double>::infinity()) == "+Inf");
}
