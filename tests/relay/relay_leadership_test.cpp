// Two relay processes with the same name: exactly one publishes, the other
// stands by; killing the publisher (kill -9) hands over within seconds, and nothing is lost.
// And a leader whose lock session ends (the lock is then free for others) notices and stops.

#include <doctest/doctest.h>

#include <signal.h>

#include <thread>

#include <fmt/format.h>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "tests/relay/relay_test_support.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using namespace cqrs::tests::relay;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view leading = "leading: publishing from the checkpoint";
constexpr std::string_view standing_by = "standing by";

std::vector<std::pair<std::string, std::string>> relay_settings(const std::string& name, core::log_position start) {
  return {{"CQRS_RELAY_NAME", name},
          {"CQRS_RELAY_START_POSITION", start.token()},
          {"CQRS_RELAY_STANDBY_RETRY_MS", "200"},
          {"CQRS_LOG_LEVEL", "info"}};
}

}  // namespace

TEST_CASE("of two relays exactly one publishes, and killing it hands over within seconds") {
  const auto name = unique_name("relaylead");
  topic_watch watch(name + "-");
  const auto settings = relay_settings(name, current_safe_head());
  steady_writer writer(name, 4, 300);
  auto first = std::make_unique<relay_process>(settings, log_path(name + "_a"));
  REQUIRE(eventually([&] { return first->logged(leading); }, 10s));
  relay_process second(settings, log_path(name + "_b"));
  REQUIRE(eventually([&] { return second.logged(standing_by); }, 10s));
  std::this_thread::sleep_for(1s);
  CHECK_FALSE(second.logged(leading));  // only one leads while both run

  const auto killed_at = steady_clock::now();
  first->signal(SIGKILL);
  REQUIRE(first->wait(5s) == -SIGKILL);
  REQUIRE(eventually([&] { return second.logged(leading); }, 10s));
  const auto handover = std::chrono::duration<double>(steady_clock::now() - killed_at).count();
  CHECK(handover < 5.0);

  std::this_thread::sleep_for(500ms);
  const auto [collected, check] = finish_delivery(writer, watch, 30s, [&] {
    second.signal(SIGTERM);
    CHECK(second.wait(15s) == 0);
  });
  MESSAGE("handover after " << handover << " s; " << collected.total << " events, " << check.duplicates << " resends");
}

namespace {

// Ends the PostgreSQL session that holds the relay's advisory lock (as a network cut or a
// restarted server would); returns how many sessions were ended.
int terminate_lock_session(const std::string& relay_name) {
  pqxx::connection connection(tests::pg_url());
  pqxx::nontransaction tx(connection);
  return tx.exec_params1(
              "SELECT count(pg_terminate_backend(pid))::int FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
              " AND classid = 1668379251 AND objid::text::bigint = (hashtext($1)::bigint + 4294967296) % 4294967296",
              relay_name + "/" + kafka_topic())[0]
      .as<int>();
}

bool metric_is(const core::metrics_registry& registry, const std::string& sample) {
  return registry.render().find(sample + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("a leader whose lock session ends stops, counts the loss, and publishes again once it leads again") {
  const auto name = unique_name("relaylock");
  topic_watch watch(name + "-");
  running_relay relay(relay_options_for(name));
  const auto& registry = relay.registry();
  steady_writer writer(name, 4, 300);
  const auto leader = fmt::format("cqrs_relay_leader{{relay=\"{}\"}} 1", name);
  REQUIRE(eventually([&] { return metric_is(registry, leader); }, 10s));
  std::this_thread::sleep_for(500ms);
  CHECK(terminate_lock_session(name) == 1);
  const auto losses = fmt::format("cqrs_relay_errors_total{{relay=\"{}\",kind=\"leadership\"}} 1", name);
  CHECK(eventually([&] { return metric_is(registry, losses); }, 5s));
  CHECK(eventually([&] { return metric_is(registry, leader); }, 5s));  // no one else: it leads again
  std::this_thread::sleep_for(500ms);
  finish_delivery(writer, watch, 30s, [&] { relay.stop(); });
}
