// append_streams: several streams in one transaction, each under its own expected version, all
// written or none; a conflict names its stream; concurrent callers over the same streams never
// leave one stream ahead of another.

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/event_store.hpp"
#include "tests/pg/pg_fixture.hpp"

using namespace cqrs::core;
using cqrs::tests::make_event;
using cqrs::tests::make_store;
using cqrs::tests::stream_in;
using cqrs::tests::unique_category;
using cqrs::tests::whole_stream;

namespace {

append_request one_to(const stream_id& stream, expected_version expected, std::string payload) {
  return append_request{stream, expected, {make_event("thing.happened", std::move(payload))}};
}

std::vector<std::string> payloads(event_store& store, const stream_id& stream) {
  std::vector<std::string> all;
  for (const auto& event : whole_stream(store, stream)) all.push_back(event.payload);
  return all;
}

}  // namespace

TEST_CASE("append_streams writes every stream under its own expected version, in one transaction") {
  auto store = make_store();
  const auto category = unique_category("streams");
  const auto a = stream_in(category, "a");
  const auto b = stream_in(category, "b");
  const auto c = stream_in(category, "c");
  REQUIRE(store->append(b, expected_version::no_stream(), {make_event("thing.happened", "b1")}).ok());

  const auto written = store->append_streams({one_to(c, expected_version::any(), "c1"),
                                              one_to(a, expected_version::no_stream(), "a1"),
                                              append_request{b, expected_version::exact(stream_version{1}),
                                                             {make_event("x", "b2"), make_event("x", "b3")}}});
  REQUIRE(written.ok());
  const auto& answers = written.value();
  REQUIRE(answers.size() == 3);
  // In request order, each with its own versions; one transaction: one xid for all.
  CHECK(answers[0].version.value() == 1);
  CHECK(answers[1].version.value() == 1);
  CHECK(answers[2].version.value() == 3);
  CHECK(answers[2].positions.size() == 2);
  CHECK(answers[0].last_position().xid() == answers[1].last_position().xid());
  CHECK(answers[1].last_position().xid() == answers[2].last_position().xid());
  CHECK(payloads(*store, a) == std::vector<std::string>{"a1"});
  CHECK(payloads(*store, b) == std::vector<std::string>{"b1", "b2", "b3"});
  CHECK(payloads(*store, c) == std::vector<std::string>{"c1"});
  CHECK(store->append_streams({}).value().empty());
}

TEST_CASE("a conflict on one stream writes nothing on any, and the refusal names that stream and its version") {
  auto store = make_store();
  const auto category = unique_category("streams_conflict");
  const auto a = stream_in(category, "a");
  const auto b = stream_in(category, "b");
  const auto c = stream_in(category, "c");
  REQUIRE(store->append(b, expected_version::any(), {make_event("x", "b1"), make_event("x", "b2")}).ok());

  const auto refused = store->append_streams({one_to(a, expected_version::no_stream(), "a1"),
                                              one_to(b, expected_version::exact(stream_version{1}), "b3"),
                                              one_to(c, expected_version::no_stream(), "c1")});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == errc::version_conflict);
  CHECK(refused.error().stream == b.str());
  REQUIRE(refused.error().actual_version.has_value());
  CHECK(refused.error().actual_version->value() == 2);
  // a sorts before b, so it was inserted and then rolled back with the rest.
  CHECK(store->current_version(a).value() == 0);
  CHECK(store->current_version(b).value() == 2);
  CHECK(store->current_version(c).value() == 0);
}

TEST_CASE("a duplicate event id, a stream named twice or bad input refuse the whole call") {
  auto store = make_store();
  const auto category = unique_category("streams_bad");
  const auto a = stream_in(category, "a");
  const auto b = stream_in(category, "b");
  const auto taken = store->append(a, expected_version::no_stream(), {make_event("x", "a1")});
  REQUIRE(taken.ok());

  auto duplicate = one_to(b, expected_version::no_stream(), "b1");
  duplicate.events.front().id = taken.value().event_ids.front();
  const auto dup = store->append_streams({one_to(a, expected_version::exact(stream_version{1}), "a2"), duplicate});
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.code() == errc::duplicate_event_id);

  const auto twice = store->append_streams({one_to(b, expected_version::any(), "1"), one_to(b, expected_version::any(), "2")});
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.code() == errc::invalid_stream_id);

  const auto empty = store->append_streams({one_to(b, expected_version::any(), "1"), append_request{a}});
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.code() == errc::empty_event_list);

  CHECK(store->current_version(a).value() == 1);
  CHECK(store->current_version(b).value() == 0);
}

TEST_CASE("racers over the same three streams, in different orders: each success writes all three, in one order") {
  constexpr int racers = 8;
  constexpr int rounds = 15;
  const auto category = unique_category("streams_race");
  const std::vector<stream_id> streams{stream_in(category, "a"), stream_in(category, "b"), stream_in(category, "c")};
  std::vector<int> successes(racers, 0);
  std::vector<int> surprises(racers, 0);
  std::vector<std::thread> threads;
  for (int r = 0; r < racers; ++r) {
    threads.emplace_back([&, r] {
      auto store = make_store();
      for (int round = 0; round < rounds; ++round) {
        std::vector<append_request> requests;
        for (int k = 0; k < 3; ++k) {
          // Each racer names the streams in another rotation: the store's own order prevents deadlocks.
          const auto& stream = streams[static_cast<std::size_t>((k + r) % 3)];
          const auto version = store->current_version(stream);
          requests.push_back(one_to(stream, expected_version::exact(version), std::to_string(r) + ":" + std::to_string(round)));
        }
        const auto outcome = store->append_streams(requests);
        if (outcome.ok()) ++successes[static_cast<std::size_t>(r)];
        else if (outcome.code() != errc::version_conflict || !outcome.error().stream) ++surprises[static_cast<std::size_t>(r)];
      }
    });
  }
  for (auto& t : threads) t.join();

  int total = 0;
  for (int r = 0; r < racers; ++r) {
    CHECK(surprises[static_cast<std::size_t>(r)] == 0);
    total += successes[static_cast<std::size_t>(r)];
  }
  CHECK(total > 0);
  auto store = make_store();
  const auto first = payloads(*store, streams[0]);
  CHECK(static_cast<int>(first.size()) == total);
  CHECK(payloads(*store, streams[1]) == first);
  CHECK(payloads(*store, streams[2]) == first);
}
