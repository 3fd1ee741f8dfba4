// Every event appended by 16 concurrent writers whose transaction-id,
// sequence and commit orders disagree reaches Kafka, per stream in version order, none missing.

#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <pqxx/transaction>

#include "core/commit_notifier.hpp"
#include "tests/relay/relay_test_support.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using namespace cqrs::tests::relay;
using namespace std::chrono_literals;

namespace {

constexpr int writer_count = 16;
constexpr int appends_per_writer = 60;
constexpr int streams_per_writer = 3;
constexpr int events_per_append = 2;

void random_pause(std::mt19937& rng) {
  std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 2000)(rng)));
}

// Takes its xid first, inserts after a pause and commits after another, so that concurrent
// writers' xid, seq and commit orders differ (as in the event store's gap test).
void write_slowly(const std::string& category, int writer, core::commit_notifier& notifier, std::atomic<int>& failures) {
  core::store_options options;
  options.url = tests::pg_url();
  core::event_store store(options);
  std::mt19937 rng(static_cast<unsigned>(writer) * 7919u + 3u);
  for (int i = 0; i < appends_per_writer; ++i) {
    const auto stream = core::stream_id::parse(fmt::format("{}-w{}s{}", category, writer, i % streams_per_writer)).value();
    pqxx::work tx(store.connection().get());
    tx.exec("SELECT pg_current_xact_id()");
    random_pause(rng);
    const core::new_event event{"relay.test", 1, fmt::format("w{} #{}", writer, i), std::nullopt};
    const core::append_request request{stream, core::expected_version::exact(core::stream_version{i / streams_per_writer * events_per_append}),
                                       {event, event}};
    if (!store.append_in(tx, request).ok()) {
      ++failures;  // asserted on the test's thread
      return;
    }
    random_pause(rng);
    tx.commit();
    notifier.committed();
  }
}

std::map<std::string, std::int64_t> expected_streams(const std::string& category) {
  std::map<std::string, std::int64_t> expected;
  for (int w = 0; w < writer_count; ++w) {
    for (int s = 0; s < streams_per_writer; ++s) {
      expected[fmt::format("{}-w{}s{}", category, w, s)] = appends_per_writer / streams_per_writer * events_per_append;
    }
  }
  return expected;
}

}  // namespace

TEST_CASE("every event of 16 concurrent writers with delayed commits reaches Kafka, in order per stream") {
  const auto category = unique_name("relaycc");
  topic_watch watch(category + "-");
  running_relay relay(relay_options_for(category), core::log_level::warn);
  std::atomic<int> failures{0};
  {
    core::commit_notifier notifier(tests::pg_url());
    std::vector<std::jthread> writers;
    for (int w = 0; w < writer_count; ++w) writers.emplace_back([&, w] { write_slowly(category, w, notifier, failures); });
  }
  REQUIRE(failures == 0);
  const std::size_t total = writer_count * appends_per_writer * events_per_append;
  const auto& messages = watch.collect_until(total, 30s);
  relay.stop();

  const auto check = check_complete_delivery(watch, expected_streams(category), total);
  CHECK(check.duplicates == 0);  // no crash, no failure: nothing is sent twice
  // The relay saved a checkpoint at or after its last event on the way out.
  const auto last = std::max_element(messages.begin(), messages.end(),
                                     [](const auto& a, const auto& b) { return a.position < b.position; });
  REQUIRE(last != messages.end());
  CHECK(last->position <= saved_checkpoint(category));
  CHECK(relay.registry().render().find("cqrs_relay_events_total{relay=\"" + category + "\"}") != std::string::npos);
}
