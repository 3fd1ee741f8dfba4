#include <doctest/doctest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <pqxx/connection_base>
#include <pqxx/transaction>

#include "core/event_store.hpp"
#include "tests/pg/pg_fixture.hpp"

using namespace cqrs::core;

namespace {

// What one writer saw; checked on the main thread (doctest assertions are not for threads).
struct writer_log {
  std::vector<event_id> appended;
  std::vector<std::pair<std::int64_t, std::int64_t>> conflicts;  // (expected, actual)
  std::vector<std::string> surprises;
};

writer_log write_contended(const stream_id& stream, int writer, int attempts) {
  writer_log log;
  auto store = cqrs::tests::make_store();
  for (int i = 0; i < attempts; ++i) {
    const auto expected = store->current_version(stream);
    const auto id = event_id::generate();
    const auto outcome = store->append(stream, expected_version::exact(expected),
                                       {new_event{"contended", 1, std::to_string(writer), id}});
    if (outcome.ok()) {
      log.appended.push_back(id);
      if (outcome.value().version.value() != expected.value() + 1) log.surprises.push_back("version skipped");
    } else if (outcome.code() == errc::version_conflict && outcome.error().actual_version) {
      log.conflicts.emplace_back(expected.value(), outcome.error().actual_version->value());
    } else {
      log.surprises.push_back(std::string(to_string(outcome.code())));
    }
  }
  return log;
}

}  // namespace

TEST_CASE("32 writers on one stream with exact expected versions: contiguous, conflicts reported, nothing lost or doubled") {
  constexpr int writers = 32;
  constexpr int attempts = 25;
  const auto stream = cqrs::tests::stream_in(cqrs::tests::unique_category("contended"), "one");
  std::vector<writer_log> logs(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) threads.emplace_back([&, w] { logs[w] = write_contended(stream, w, attempts); });
  for (auto& t : threads) t.join();

  std::set<event_id> appended;
  std::size_t successes = 0;
  std::size_t conflicts = 0;
  auto store = cqrs::tests::make_store();
  const auto final_version = store->current_version(stream).value();
  for (const auto& log : logs) {
    CHECK(log.surprises.empty());
    successes += log.appended.size();
    conflicts += log.conflicts.size();
    appended.insert(log.appended.begin(), log.appended.end());
    for (const auto& [expected, actual] : log.conflicts) {
      // Versions only grow: the stream had moved past what the writer read, and no further
      // than the end.
      CHECK(actual > expected);
      CHECK(actual <= final_version);
    }
  }
  CHECK(successes + conflicts == static_cast<std::size_t>(writers * attempts));
  CHECK(conflicts > 0);
  CHECK(final_version == static_cast<std::int64_t>(successes));

  const auto events = cqrs::tests::whole_stream(*store, stream);
  REQUIRE(events.size() == successes);
  std::set<event_id> stored;
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].version.value() == static_cast<std::int64_t>(i + 1));
    stored.insert(events[i].id);
  }
  CHECK(stored == appended);
  MESSAGE("successes ", successes, ", conflicts ", conflicts);
}

TEST_CASE("writers of different streams do not wait for each other") {
  // A transaction holding one stream's next version (inserted, not committed) must not block an
  // append to another stream of the same category: no table or category lock.
  auto holder = cqrs::tests::make_store();
  auto other = cqrs::tests::make_store();
  const auto category = cqrs::tests::unique_category("independent");
  const auto held = cqrs::tests::stream_in(category, "held");
  const auto free = cqrs::tests::stream_in(category, "free");
  REQUIRE(holder->append(held, expected_version::no_stream(), {cqrs::tests::make_event("e", "1")}).ok());

  pqxx::work tx(holder->connection().get());
  REQUIRE(holder->append_in(tx, append_request{held, expected_version::exact(stream_version{1}), {cqrs::tests::make_event("e", "2")}}).ok());
  // The held stream's version 2 stays uncommitted until tx ends; the other stream's append goes through.
  const auto started = std::chrono::steady_clock::now();
  CHECK(other->append(free, expected_version::no_stream(), {cqrs::tests::make_event("e", "1")}).ok());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  tx.commit();
  CHECK(other->current_version(held).value() == 2);
}
