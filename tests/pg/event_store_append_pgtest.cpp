#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <thread>

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "core/event_store.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs::core;
using cqrs::tests::make_event;
using cqrs::tests::make_store;
using cqrs::tests::stream_in;
using cqrs::tests::unique_category;

namespace {

std::vector<new_event> one_event(std::string type = "thing.happened") { return {make_event(std::move(type), "x")}; }

void check_conflict(const result<append_success>& outcome, std::int64_t actual) {
  REQUIRE_FALSE(outcome.ok());
  CHECK(outcome.code() == errc::version_conflict);
  REQUIRE(outcome.error().actual_version.has_value());
  CHECK(outcome.error().actual_version->value() == actual);
}

void check_version(const result<append_success>& outcome, std::int64_t version) {
  REQUIRE(outcome.ok());
  CHECK(outcome.value().version.value() == version);
}

}  // namespace

TEST_CASE("each expected-version form accepts or refuses as documented, refusals carrying the actual version") {
  auto store = make_store();
  const auto stream = stream_in(unique_category("forms"), "a");

  check_conflict(store->append(stream, expected_version::stream_exists(), one_event()), 0);
  check_conflict(store->append(stream, expected_version::exact(stream_version{3}), one_event()), 0);
  CHECK(store->current_version(stream).value() == 0);

  check_version(store->append(stream, expected_version::no_stream(), one_event()), 1);
  check_conflict(store->append(stream, expected_version::no_stream(), one_event()), 1);
  check_version(store->append(stream, expected_version::any(), one_event()), 2);
  check_version(store->append(stream, expected_version::stream_exists(), one_event()), 3);
  check_version(store->append(stream, expected_version::exact(stream_version{3}), one_event()), 4);
  check_conflict(store->append(stream, expected_version::exact(stream_version{3}), one_event()), 4);
  check_conflict(store->append(stream, expected_version::exact(stream_version{0}), one_event()), 4);
  check_conflict(store->append(stream, expected_version::exact(stream_version{9}), one_event()), 4);
  CHECK(store->current_version(stream).value() == 4);
  CHECK(cqrs::tests::whole_stream(*store, stream).size() == 4);
}

TEST_CASE("any on a new stream creates it, and several events get contiguous versions and positions") {
  auto store = make_store();
  const auto stream = stream_in(unique_category("many"), "a");
  const auto first = store->append(stream, expected_version::any(),
                                   {make_event("a.one", "1"), make_event("a.two", "22"), make_event("a.three", "")});
  REQUIRE(first.ok());
  CHECK(first.value().version.value() == 3);
  REQUIRE(first.value().positions.size() == 3);
  CHECK(first.value().positions[0] < first.value().positions[1]);
  CHECK(first.value().positions[1] < first.value().positions[2]);
  // One transaction: one xid for all.
  CHECK(first.value().positions[0].xid() == first.value().positions[2].xid());

  const auto events = cqrs::tests::whole_stream(*store, stream);
  REQUIRE(events.size() == 3);
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].version.value() == static_cast<std::int64_t>(i + 1));
    CHECK(events[i].position == first.value().positions[i]);
    CHECK(events[i].id == first.value().event_ids[i]);
  }
  CHECK(events[1].type == "a.two");
  CHECK(events[1].payload == "22");
  CHECK(events[2].payload.empty());
}

TEST_CASE("metadata and binary payloads round-trip unchanged") {
  auto store = make_store();
  const auto stream = stream_in(unique_category("meta"), "a");
  std::string payload;
  for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
  const event_metadata metadata{"cmd-1", "corr-1", "cause-1", "Zoë"};
  const auto id = event_id::generate();
  REQUIRE(store->append(stream, expected_version::no_stream(), {new_event{"binary.thing", 3, payload, id}}, metadata).ok());

  const auto events = cqrs::tests::whole_stream(*store, stream);
  REQUIRE(events.size() == 1);
  CHECK(events[0].payload == payload);
  CHECK(events[0].schema_version == 3);
  CHECK(events[0].id == id);
  CHECK(events[0].metadata.command_id == "cmd-1");
  CHECK(events[0].metadata.correlation_id == "corr-1");
  CHECK(events[0].metadata.causation_id == "cause-1");
  CHECK(events[0].metadata.actor == "Zoë");
  const auto age = std::chrono::system_clock::now() - events[0].recorded_at;
  CHECK(age < std::chrono::minutes(5));
  CHECK(age > -std::chrono::minutes(5));
}

TEST_CASE("bad input is an error value and writes nothing") {
  store_options options = cqrs::tests::store_options_for_tests();
  options.limits.max_payload_bytes = 1024;
  options.limits.max_events_per_append = 10;
  auto store = make_store(options);
  const auto stream = stream_in(unique_category("bad"), "a");
  const auto refused = [&](std::vector<new_event> events, errc expected, event_metadata metadata = {}) {
    const auto outcome = store->append(stream, expected_version::any(), std::move(events), std::move(metadata));
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.code() == expected);
  };

  refused({}, errc::empty_event_list);
  refused({make_event("", "x")}, errc::invalid_event_type);
  refused({make_event("has space", "x")}, errc::invalid_event_type);
  refused({make_event("ok.type", "x"), make_event("", "x")}, errc::invalid_event_type);
  refused({make_event("big", std::string(1025, 'x'))}, errc::payload_too_large);
  refused({new_event{"old", 0, "x", std::nullopt}}, errc::invalid_schema_version);
  refused(std::vector<new_event>(11, make_event("many", "x")), errc::too_many_events);
  refused(one_event(), errc::invalid_metadata, event_metadata{std::string(201, 'c'), {}, {}, {}});
  refused(one_event(), errc::invalid_metadata, event_metadata{{}, {}, {}, std::string("bad\nactor")});
  refused(one_event(), errc::invalid_metadata, event_metadata{{}, std::string("\xff\xfe"), {}, {}});
  const auto negative = store->append(stream, expected_version::exact(stream_version{-1}), one_event());
  CHECK(negative.code() == errc::invalid_expected_version);

  CHECK(store->current_version(stream).value() == 0);
  CHECK(cqrs::tests::whole_stream(*store, stream).empty());
}

TEST_CASE("the default payload limit is 1 MiB") {
  auto store = make_store();
  const auto stream = stream_in(unique_category("limit"), "a");
  CHECK(store->append(stream, expected_version::any(), {make_event("big", std::string(1 << 20, 'x'))}).ok());
  const auto over = store->append(stream, expected_version::any(), {make_event("big", std::string((1 << 20) + 1, 'x'))});
  CHECK(over.code() == errc::payload_too_large);
  CHECK(store->current_version(stream).value() == 1);
}

TEST_CASE("an append is all or nothing: a duplicate event id in the middle writes none of its events") {
  auto store = make_store();
  const auto stream = stream_in(unique_category("atomic"), "a");
  const auto taken = event_id::generate();
  REQUIRE(store->append(stream, expected_version::any(), {new_event{"first", 1, "1", taken}}).ok());

  const auto outcome = store->append(stream, expected_version::exact(stream_version{1}),
                                     {make_event("second", "2"), new_event{"third", 1, "3", taken}, make_event("fourth", "4")});
  REQUIRE_FALSE(outcome.ok());
  CHECK(outcome.code() == errc::duplicate_event_id);
  CHECK(store->current_version(stream).value() == 1);
  CHECK(cqrs::tests::whole_stream(*store, stream).size() == 1);
  // The failed statement left the connection usable.
  CHECK(store->append(stream, expected_version::exact(stream_version{1}), one_event()).ok());
}

TEST_CASE("a snapshot and a command outcome are written in the same transaction as the events") {
  auto store = make_store();
  const auto stream = stream_in(unique_category("snap"), "a");
  const std::string key = "key-" + cqrs::tests::run_id();
  append_request request{stream, expected_version::no_stream(), {make_event("opened", "o"), make_event("credited", "c")}};
  request.snapshot = snapshot_write{2, std::string("state\0bytes", 11)};
  request.outcome = command_outcome_write{key, "fingerprint-1", "{\"ok\":true}"};
  const auto appended = store->append(request);
  REQUIRE(appended.ok());

  const auto snap = store->latest_snapshot(stream);
  REQUIRE(snap.has_value());
  CHECK(snap->version.value() == 2);
  CHECK(snap->schema_version == 2);
  CHECK(snap->state == std::string("state\0bytes", 11));

  const auto outcome = store->find_command_outcome(key);
  REQUIRE(outcome.has_value());
  CHECK(outcome->command_fingerprint == "fingerprint-1");
  CHECK(outcome->outcome == "{\"ok\":true}");
  CHECK(outcome->stream == stream);
  CHECK(outcome->version == stream_version{2});
  CHECK(outcome->position == appended.value().last_position());
  CHECK_FALSE(store->find_command_outcome(key + "-other").has_value());

  // The same key again: refused as a value, and the events of that append are not written.
  append_request again{stream, expected_version::any(), {make_event("credited", "c")}};
  again.outcome = command_outcome_write{key, "fingerprint-1", "{}"};
  CHECK(store->append(again).code() == errc::duplicate_idempotency_key);
  CHECK(store->current_version(stream).value() == 2);
}

TEST_CASE("an append whose connection is lost mid-statement is reported in doubt and not retried") {
  auto store = make_store();
  const auto stream = stream_in(unique_category("doubt"), "a");
  REQUIRE(store->append(stream, expected_version::no_stream(), one_event()).ok());

  // Hold the stream's next version (inserted, not committed) so that the next append waits
  // inside its statement, on the unique (stream_id, stream_version) index.
  pqxx::connection holder_connection(cqrs::tests::pg_url());
  pqxx::work holder(holder_connection);
  holder.exec_params("INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, payload)"
                     " VALUES ($1, 2, gen_random_uuid(), 'held', 1, '')",
                     stream.str());

  auto pending = std::async(std::launch::async, [&] {
    try {
      (void)store->append(stream, expected_version::exact(stream_version{1}), one_event());
      return std::string("no failure");
    } catch (const store_error& e) {
      return std::string(to_string(e.kind()));
    }
  });

  pqxx::connection killer_connection(cqrs::tests::pg_url());
  int terminated = 0;
  for (int i = 0; i < 200 && terminated == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pqxx::nontransaction killer(killer_connection);
    terminated = killer.exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                             " WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO events%'"
                             " AND pid <> pg_backend_pid()")[0][0].as<int>();
  }
  REQUIRE(terminated == 1);
  CHECK(pending.get() == "in_doubt");
  holder.abort();

  // Not retried: once the lock is gone a retry would have succeeded and written version 2.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(store->current_version(stream).value() == 1);
  // The store reconnects for the next call.
  CHECK(store->append(stream, expected_version::exact(stream_version{1}), one_event()).ok());
}

TEST_CASE("a connection the server closed while idle is replaced before the next write, which is then not in doubt") {
  const std::string app = "idle_closed_" + cqrs::tests::run_id();
  auto options = cqrs::tests::store_options_for_tests();
  options.url = cqrs::tests::with_url_parameter(options.url, "application_name=" + app);
  auto store = make_store(options);
  const auto stream = stream_in(unique_category("idleclosed"), "a");
  REQUIRE(store->append(stream, expected_version::no_stream(), one_event()).ok());

  pqxx::connection admin(cqrs::tests::pg_url());
  {
    pqxx::nontransaction tx(admin);
    REQUIRE(tx.exec_params("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                           app)[0][0]
                .as<int>() == 1);
  }
  // pg_terminate_backend only signals: wait until the backend is gone, as after a restart.
  int left = 1;
  for (int i = 0; i < 200 && left > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pqxx::nontransaction tx(admin);
    left = tx.exec_params("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app)[0][0].as<int>();
  }
  REQUIRE(left == 0);
  // Without the check before use, the write would be sent on the dead connection and reported
  // in doubt (a 503 for a command), although the server never saw it.
  const auto appended = store->append(stream, expected_version::exact(stream_version{1}), one_event());
  CHECK(appended.ok());
  CHECK(store->current_version(stream).value() == 2);
}
