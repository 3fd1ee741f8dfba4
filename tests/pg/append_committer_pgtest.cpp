// The asynchronous group commit (core/append_committer.hpp) against a real PostgreSQL. The
// committer is held busy deterministically: its first append waits on the unique
// (stream_id, stream_version) index behind a transaction of the test's that inserted the same
// version and has not committed, so everything handed over meanwhile queues up.

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction>

#include "core/append_committer.hpp"
#include "core/event_store.hpp"
#include "core/metrics.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs::core;
using namespace std::chrono_literals;

namespace {

append_request one_event(const stream_id& stream, expected_version expected, std::string payload) {
  return append_request{stream, expected, {new_event{"committed", 1, std::move(payload)}}, {}, std::nullopt, std::nullopt};
}

store_options options_on(std::string url) {
  auto options = cqrs::tests::store_options_for_tests();
  options.url = std::move(url);
  return options;
}

// Collects one answer per submission, in submission order.
class answers {
 public:
  explicit answers(std::size_t n) : promises_(n) {
    for (auto& p : promises_) futures_.push_back(p.get_future());
  }
  append_committer::callback slot(std::size_t i) {
    return [this, i](committer_answer answer) { promises_[i].set_value(std::move(answer)); };
  }
  committer_answer get(std::size_t i) {
    REQUIRE(futures_[i].wait_for(30s) == std::future_status::ready);
    return futures_[i].get();
  }

 private:
  std::vector<std::promise<committer_answer>> promises_;
  std::vector<std::future<committer_answer>> futures_;
};

void wait_until_taken(const append_committer& committer) {
  for (int i = 0; i < 3000 && committer.queued() > 0; ++i) std::this_thread::sleep_for(1ms);
  REQUIRE(committer.queued() == 0);
}

}  // namespace

TEST_CASE("append_committer: what is handed over while a statement runs goes in one group; a stale expectation is not written") {
  const auto category = cqrs::tests::unique_category("committer");
  auto store = cqrs::tests::make_store();
  const auto blocked = cqrs::tests::stream_in(category, "blocked");
  const auto existing = cqrs::tests::stream_in(category, "existing");
  REQUIRE(store->append(existing, expected_version::no_stream(), {cqrs::tests::make_event("committed", "1")}).ok());

  metrics_registry registry;
  append_committer committer(options_on(cqrs::tests::pg_url()), 64, 12, &registry);
  constexpr std::size_t grouped = 10;
  answers got(grouped + 3);

  // Another writer holds version 1 of `blocked`, uncommitted: the committer's first append waits on it.
  pqxx::connection other(cqrs::tests::pg_url());
  pqxx::work holder(other);
  holder.exec_params("INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, payload)"
                     " VALUES ($1, 1, gen_random_uuid(), 'committed', 1, 'by another writer')",
                     blocked.str());
  REQUIRE(committer.try_submit(one_event(blocked, expected_version::no_stream(), "lost race"), got.slot(0)));
  wait_until_taken(committer);

  std::vector<stream_id> fresh;
  for (std::size_t i = 0; i < grouped; ++i) {
    fresh.push_back(cqrs::tests::stream_in(category, "s" + std::to_string(i)));
    REQUIRE(committer.try_submit(one_event(fresh.back(), expected_version::no_stream(), "p" + std::to_string(i)),
                                 got.slot(i + 1)));
  }
  // The stale one: `existing` is at 1, not 0.
  REQUIRE(committer.try_submit(one_event(existing, expected_version::no_stream(), "stale"), got.slot(grouped + 1)));
  REQUIRE(committer.try_submit(one_event(existing, expected_version::exact(stream_version{1}), "same stream again"),
                               got.slot(grouped + 2)));
  // The queue holds 12, as the gauge says at once: the next is refused, and its callback never runs.
  CHECK(registry.render().find("cqrs_append_committer_queued 12") != std::string::npos);
  CHECK_FALSE(committer.try_submit(one_event(cqrs::tests::stream_in(category, "over"), expected_version::no_stream(), "x"),
                                   [](committer_answer) { FAIL("a refused append was answered"); }));
  holder.commit();

  const auto first = got.get(0);
  CHECK(first.what == committer_answer::kind::not_written);  // alone: the store's version_conflict
  std::optional<log_position> group_position;
  for (std::size_t i = 0; i < grouped; ++i) {
    const auto a = got.get(i + 1);
    REQUIRE(a.what == committer_answer::kind::written);
    CHECK(a.success->version.value() == 1);
    if (group_position) CHECK(a.success->last_position().xid() == group_position->xid());  // one transaction
    group_position = a.success->last_position();
    const auto stored = cqrs::tests::whole_stream(*store, fresh[i]);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].payload == "p" + std::to_string(i));
    CHECK(stored[0].id == a.success->event_ids.front());
  }
  CHECK(got.get(grouped + 1).what == committer_answer::kind::not_written);
  // A group writes each stream once: the second append to `existing` was left out, though it held.
  CHECK(got.get(grouped + 2).what == committer_answer::kind::not_written);
  CHECK(cqrs::tests::whole_stream(*store, existing).size() == 1);
  CHECK(cqrs::tests::whole_stream(*store, blocked).front().payload == "by another writer");

  // Two statements: the blocked one alone, then the twelve queued behind it.
  CHECK(committer.statements() == 2);
  CHECK(committer.appends() == grouped + 3);
  const auto text = registry.render();
  CHECK(text.find("cqrs_append_committer_statements_total 2") != std::string::npos);
  CHECK(text.find("cqrs_append_committer_appends_total 13") != std::string::npos);
}

TEST_CASE("append_committer: refuses what it cannot group, answers everything handed over before stop, then refuses") {
  const auto category = cqrs::tests::unique_category("committer_stop");
  auto store = cqrs::tests::make_store();
  append_committer committer(options_on(cqrs::tests::pg_url()), 64, 100);

  auto two_events = one_event(cqrs::tests::stream_in(category, "two"), expected_version::no_stream(), "a");
  two_events.events.push_back(new_event{"committed", 1, "b"});
  CHECK_FALSE(committer.try_submit(two_events, [](committer_answer) { FAIL("answered a refused append"); }));
  CHECK_FALSE(committer.try_submit(one_event(cqrs::tests::stream_in(category, "any"), expected_version::any(), "a"),
                                   [](committer_answer) { FAIL("answered a refused append"); }));

  constexpr std::size_t n = 20;
  answers got(n);
  for (std::size_t i = 0; i < n; ++i) {
    REQUIRE(committer.try_submit(
        one_event(cqrs::tests::stream_in(category, "s" + std::to_string(i)), expected_version::no_stream(), "p"),
        got.slot(i)));
  }
  committer.stop();  // returns once all twenty are answered
  for (std::size_t i = 0; i < n; ++i) CHECK(got.get(i).what == committer_answer::kind::written);
  CHECK(committer.appends() == n);
  CHECK_FALSE(committer.try_submit(one_event(cqrs::tests::stream_in(category, "late"), expected_version::no_stream(), "p"),
                                   [](committer_answer) { FAIL("answered after stop"); }));
  CHECK(cqrs::tests::whole_stream(*store, cqrs::tests::stream_in(category, "late")).empty());
}

TEST_CASE("append_committer: a statement that cannot reach PostgreSQL answers failed with the store's error") {
  const auto category = cqrs::tests::unique_category("committer_down");
  append_committer committer(options_on("postgresql://cqrs@127.0.0.1:1/cqrs?connect_timeout=2"), 64, 10);
  answers got(1);
  REQUIRE(committer.try_submit(one_event(cqrs::tests::stream_in(category, "s"), expected_version::no_stream(), "p"),
                               got.slot(0)));
  const auto answer = got.get(0);
  REQUIRE(answer.what == committer_answer::kind::failed);
  REQUIRE(answer.failure);
  try {
    std::rethrow_exception(answer.failure);
  } catch (const store_error& e) {
    CHECK(e.kind() == failure_kind::connection);
  } catch (...) {
    FAIL("not a store_error");
  }
}
