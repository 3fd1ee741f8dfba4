#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction>

#include "core/event_store.hpp"
#include "core/group_commit.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs::core;

namespace {

append_request one_event(const stream_id& stream, expected_version expected, std::string payload,
                         std::optional<event_id> id = std::nullopt) {
  return append_request{stream, expected, {new_event{"grouped", 1, std::move(payload), id}}, {}, std::nullopt, std::nullopt};
}

std::vector<const append_request*> pointers(const std::vector<append_request>& requests) {
  std::vector<const append_request*> out;
  for (const auto& r : requests) out.push_back(&r);
  return out;
}

}  // namespace

TEST_CASE("append_group writes one event per stream in one transaction, with metadata, new and existing streams") {
  const auto category = cqrs::tests::unique_category("group");
  auto store = cqrs::tests::make_store();
  const auto old = cqrs::tests::stream_in(category, "old");
  REQUIRE(store->append(old, expected_version::no_stream(), {cqrs::tests::make_event("grouped", "first")}).ok());

  std::vector<append_request> requests{
      one_event(cqrs::tests::stream_in(category, "b"), expected_version::no_stream(), "to b"),
      one_event(old, expected_version::exact(stream_version{1}), "to old"),
      one_event(cqrs::tests::stream_in(category, "a"), expected_version::no_stream(), "to a"),
  };
  requests[0].metadata = event_metadata{"cmd-1", "corr-1", "cause-1", "alice"};  // requests[2] has none
  const auto written = store->append_group(pointers(requests));

  REQUIRE(written.size() == 3);
  for (const auto& w : written) REQUIRE(w.has_value());
  CHECK(written[0]->version.value() == 1);
  CHECK(written[1]->version.value() == 2);
  CHECK(written[2]->version.value() == 1);
  // One transaction: one xid, and the rows in stream order ("a" < "b" < "old").
  CHECK(written[0]->last_position().xid() == written[1]->last_position().xid());
  CHECK(written[2]->last_position() < written[0]->last_position());
  CHECK(written[0]->last_position() < written[1]->last_position());

  const auto b = cqrs::tests::whole_stream(*store, requests[0].stream);
  REQUIRE(b.size() == 1);
  CHECK(b[0].payload == "to b");
  CHECK(b[0].id == written[0]->event_ids.front());
  CHECK(b[0].metadata.command_id == std::optional<std::string>("cmd-1"));
  CHECK(b[0].metadata.actor == std::optional<std::string>("alice"));
  const auto a = cqrs::tests::whole_stream(*store, requests[2].stream);
  REQUIRE(a.size() == 1);
  CHECK(a[0].payload == "to a");
  CHECK_FALSE(a[0].metadata.actor.has_value());
  const auto o = cqrs::tests::whole_stream(*store, old);
  REQUIRE(o.size() == 2);
  CHECK(o[1].payload == "to old");
}

TEST_CASE("append_group leaves out what it must not write, and writes the rest") {
  const auto category = cqrs::tests::unique_category("group_out");
  auto store = cqrs::tests::make_store();
  const auto at2 = cqrs::tests::stream_in(category, "at2");
  REQUIRE(store->append(at2, expected_version::no_stream(),
                        {cqrs::tests::make_event("grouped", "1"), cqrs::tests::make_event("grouped", "2")})
              .ok());
  const auto taken_id = cqrs::tests::whole_stream(*store, at2)[0].id;
  const auto twice = cqrs::tests::stream_in(category, "twice");
  auto two_events = one_event(cqrs::tests::stream_in(category, "two"), expected_version::no_stream(), "x");
  two_events.events.push_back(cqrs::tests::make_event("grouped", "y"));

  std::vector<append_request> requests{
      one_event(at2, expected_version::exact(stream_version{1}), "stale"),        // 0: expectation no longer holds
      one_event(at2, expected_version::exact(stream_version{2}), "good"),         // 1: at2 is in the group already (0)
      one_event(cqrs::tests::stream_in(category, "new"), expected_version::no_stream(), "new", taken_id),  // 2: id taken
      one_event(twice, expected_version::no_stream(), "first"),                   // 3: written
      one_event(twice, expected_version::no_stream(), "second"),                  // 4: the stream's second
      two_events,                                                                 // 5: not groupable
      one_event(cqrs::tests::stream_in(category, "any"), expected_version::any(), "any"),  // 6: not groupable
      one_event(cqrs::tests::stream_in(category, "bad"), expected_version::no_stream(), "bad"),  // 7: invalid
      one_event(cqrs::tests::stream_in(category, "exists"), expected_version::no_stream(), "fine"),  // 8: written
  };
  requests[7].events[0].type = "not a valid type!";
  const auto written = store->append_group(pointers(requests));

  REQUIRE(written.size() == requests.size());
  CHECK_FALSE(written[0]);
  CHECK_FALSE(written[1]);  // at2's first request (0) took the stream's place in the group
  CHECK_FALSE(written[2]);
  REQUIRE(written[3]);
  CHECK_FALSE(written[4]);
  CHECK_FALSE(written[5]);
  CHECK_FALSE(written[6]);
  CHECK_FALSE(written[7]);
  REQUIRE(written[8]);
  CHECK(written[3]->version.value() == 1);

  // Nothing of the left-out requests is stored; each alone then gets its exact answer.
  CHECK(cqrs::tests::whole_stream(*store, at2).size() == 2);
  CHECK(cqrs::tests::whole_stream(*store, requests[2].stream).empty());
  CHECK(cqrs::tests::whole_stream(*store, twice).size() == 1);
  CHECK(cqrs::tests::whole_stream(*store, requests[5].stream).empty());
  CHECK(store->append(requests[0]).code() == errc::version_conflict);
  CHECK(store->append(requests[1]).ok());
  CHECK(store->append(requests[2]).code() == errc::duplicate_event_id);
  CHECK(store->append(requests[4]).code() == errc::version_conflict);
  CHECK(store->append(requests[7]).code() == errc::invalid_event_type);
}

TEST_CASE("append_group stores a keyed request's outcome with its event; a key already stored writes nothing of the group") {
  const auto category = cqrs::tests::unique_category("group_keys");
  auto store = cqrs::tests::make_store();
  const auto key = "group-key-" + cqrs::tests::run_id();
  std::vector<append_request> requests{
      one_event(cqrs::tests::stream_in(category, "keyed"), expected_version::no_stream(), "k"),
      one_event(cqrs::tests::stream_in(category, "plain"), expected_version::no_stream(), "p"),
  };
  requests[0].outcome = command_outcome_write{key, "fingerprint-1", "{\"event_ids\":[]}"};
  REQUIRE(event_store::groupable(requests[0]));
  const auto written = store->append_group(pointers(requests));
  REQUIRE(written[0]);
  REQUIRE(written[1]);
  const auto stored = store->find_command_outcome(key);
  REQUIRE(stored.has_value());
  CHECK(stored->command_fingerprint == "fingerprint-1");
  CHECK(stored->outcome == "{\"event_ids\":[]}");
  CHECK(stored->stream == std::optional<stream_id>(requests[0].stream));
  CHECK(stored->version == std::optional<stream_version>(stream_version{1}));
  CHECK(stored->position == std::optional<log_position>(written[0]->last_position()));

  // The same key again, in a group with an innocent request: the statement fails as a whole.
  std::vector<append_request> again{
      one_event(cqrs::tests::stream_in(category, "keyed2"), expected_version::no_stream(), "k2"),
      one_event(cqrs::tests::stream_in(category, "plain2"), expected_version::no_stream(), "p2"),
  };
  again[0].outcome = command_outcome_write{key, "fingerprint-1", "{}"};
  CHECK_THROWS_AS((void)store->append_group(pointers(again)), store_error);
  CHECK(cqrs::tests::whole_stream(*store, again[0].stream).empty());
  CHECK(cqrs::tests::whole_stream(*store, again[1].stream).empty());
  // Through group_commit, each then appends alone and gets its own answer.
  group_commit group(64);
  CHECK(group.append(*store, again[1]).ok());
  CHECK(group.append(*store, again[0]).code() == errc::duplicate_idempotency_key);
}

TEST_CASE("group_commit: concurrent appends form groups, and every answer is what an append alone would give") {
  constexpr int threads = 12;
  constexpr int rounds = 40;
  const auto category = cqrs::tests::unique_category("group_many");
  group_commit group(64);
  const auto hot = cqrs::tests::stream_in(category, "hot");  // every thread also contends on one stream
  struct thread_log {
    int own_written = 0;
    int hot_written = 0;
    int hot_conflicts = 0;
    std::vector<std::string> surprises;
  };
  std::vector<thread_log> logs(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto store = cqrs::tests::make_store();
      auto& log = logs[t];
      const auto own = cqrs::tests::stream_in(category, "own" + std::to_string(t));
      for (int i = 0; i < rounds; ++i) {
        auto mine = group.append(*store, one_event(own, expected_version::exact(stream_version{i}), std::to_string(i)));
        if (mine.ok() && mine.value().version.value() == i + 1) {
          ++log.own_written;
        } else {
          log.surprises.push_back("own stream: " + std::string(mine.ok() ? "wrong version" : to_string(mine.code())));
        }
        const auto seen = store->current_version(hot);
        auto contended = group.append(*store, one_event(hot, expected_version::exact(seen), std::to_string(t)));
        if (contended.ok()) {
          ++log.hot_written;
        } else if (contended.code() == errc::version_conflict && contended.error().actual_version &&
                   contended.error().actual_version->value() > seen.value()) {
          ++log.hot_conflicts;
        } else {
          log.surprises.push_back("hot stream: " + std::string(to_string(contended.code())));
        }
      }
    });
  }
  for (auto& w : workers) w.join();

  int hot_written = 0;
  for (const auto& log : logs) {
    CHECK(log.surprises.empty());
    CHECK(log.own_written == rounds);
    CHECK(log.hot_written + log.hot_conflicts == rounds);
    hot_written += log.hot_written;
  }
  CHECK(group.groups() > 0);
  CHECK(group.grouped_requests() >= 2 * group.groups());

  auto store = cqrs::tests::make_store();
  const auto hot_events = cqrs::tests::whole_stream(*store, hot);
  CHECK(hot_events.size() == static_cast<std::size_t>(hot_written));
  for (std::size_t i = 0; i < hot_events.size(); ++i) CHECK(hot_events[i].version.value() == static_cast<std::int64_t>(i + 1));
  // In the global log every stream's events are in version order, and nothing is doubled.
  std::map<std::string, std::int64_t> last;
  std::set<event_id> ids;
  const auto all = cqrs::tests::whole_category(*store, category);
  for (const auto& e : all) {
    CHECK(e.version.value() == last[e.stream.str()] + 1);
    last[e.stream.str()] = e.version.value();
    CHECK(ids.insert(e.id).second);
  }
  CHECK(all.size() == static_cast<std::size_t>(threads * rounds + hot_written));
}

TEST_CASE("group_commit with max_group 1 writes each append alone") {
  const auto category = cqrs::tests::unique_category("group_off");
  group_commit group(1);
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      auto store = cqrs::tests::make_store();
      const auto own = cqrs::tests::stream_in(category, "s" + std::to_string(t));
      for (int i = 0; i < 10; ++i) (void)group.append(*store, one_event(own, expected_version::exact(stream_version{i}), "x"));
    });
  }
  for (auto& w : workers) w.join();
  CHECK(group.groups() == 0);
  auto store = cqrs::tests::make_store();
  CHECK(cqrs::tests::whole_category(*store, category).size() == 40);
  CHECK_THROWS_AS(group_commit(0), std::invalid_argument);
}

TEST_CASE("group_commit: after the connections die, every append is written once: answered, or in doubt and told by its event id") {
  constexpr int threads = 6;
  const auto category = cqrs::tests::unique_category("group_doubt");
  const std::string app = "group_doubt_" + cqrs::tests::run_id();
  group_commit group(64);
  std::vector<std::unique_ptr<event_store>> stores;
  for (int t = 0; t < threads; ++t) {
    auto options = cqrs::tests::store_options_for_tests();
    options.url = cqrs::tests::with_url_parameter(options.url, "application_name=" + app);
    stores.push_back(cqrs::tests::make_store(options));
    (void)stores.back()->current_version(cqrs::tests::stream_in(category, "warm"));  // connected
  }
  {
    pqxx::connection admin(cqrs::tests::pg_url());
    pqxx::work tx(admin);
    const auto killed = tx.exec_params(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) AS k",
        app);
    REQUIRE(killed[0][0].as<int>() == threads);
  }
  std::vector<append_request> requests;
  for (int t = 0; t < threads; ++t) {
    requests.push_back(one_event(cqrs::tests::stream_in(category, "s" + std::to_string(t)), expected_version::no_stream(),
                                 "once", event_id::generate()));
  }
  std::vector<int> answered(threads, 0), in_doubt(threads, 0);
  std::vector<std::string> surprises(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        auto done = group.append(*stores[t], requests[t]);
        if (done.ok()) {
          answered[t] = 1;
        } else {
          surprises[t] = std::string(to_string(done.code()));
        }
      } catch (const store_error& e) {
        if (e.kind() == failure_kind::in_doubt) {
          in_doubt[t] = 1;
        } else {
          surprises[t] = std::string(to_string(e.kind()));
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  for (int t = 0; t < threads; ++t) {
    CAPTURE(t);
    CHECK(surprises[t].empty());
    CHECK(answered[t] + in_doubt[t] == 1);
    if (in_doubt[t] == 1) {
      // The documented recovery: append again with the same event id. A duplicate id says the
      // first attempt landed; success says it did not (and now it has). The retry may meet the
      // dead connection too (a follower's own connection was not used by the group), and is then
      // in doubt in its turn: the store reconnects after that, so a few tries settle it.
      std::optional<result<append_success>> settled;
      for (int attempt = 0; attempt < 3 && !settled; ++attempt) {
        try {
          settled = stores[t]->append(requests[t]);
        } catch (const store_error& e) {
          CHECK(e.kind() == failure_kind::in_doubt);
        }
      }
      REQUIRE(settled.has_value());
      CHECK((settled->ok() || settled->code() == errc::duplicate_event_id));
    }
    CHECK(cqrs::tests::whole_stream(*stores[t], requests[t].stream).size() == 1);
  }
}
