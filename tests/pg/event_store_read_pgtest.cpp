#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include <pqxx/connection>
#include <pqxx/transaction>

#include "core/commit_notifier.hpp"
#include "core/event_store.hpp"
#include "core/log_tail.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs::core;
using namespace std::chrono_literals;
using cqrs::tests::make_event;
using cqrs::tests::make_store;
using cqrs::tests::stream_in;
using cqrs::tests::unique_category;

namespace {

void append_n(event_store& store, const stream_id& stream, int count) {
  for (int i = 0; i < count; ++i) REQUIRE(store.append(stream, expected_version::any(), {make_event("tick", std::to_string(i))}).ok());
}

}  // namespace

TEST_CASE("read_stream reads in batches from a version and says where to go on") {
  auto store = make_store();
  const auto stream = stream_in(unique_category("batches"), "a");
  append_n(*store, stream, 25);

  const auto first = store->read_stream(stream, stream_version{1}, 10);
  REQUIRE(first.ok());
  CHECK(first.value().events.size() == 10);
  CHECK(first.value().next.value() == 11);
  const auto middle = store->read_stream(stream, stream_version{21}, 10);
  REQUIRE(middle.ok());
  CHECK(middle.value().events.size() == 5);
  CHECK(middle.value().events.front().version.value() == 21);
  CHECK(middle.value().next.value() == 26);
  const auto end = store->read_stream(stream, stream_version{26}, 10);
  CHECK(end.value().events.empty());
  CHECK(end.value().next.value() == 26);

  std::vector<std::size_t> sizes;
  const auto next = store->for_each_stream_batch(stream, stream_version{1}, 10,
                                                 [&](const stream_batch& batch) { sizes.push_back(batch.events.size()); });
  CHECK(next.value().value() == 26);
  CHECK(sizes == std::vector<std::size_t>{10, 10, 5});
  CHECK(store->read_stream(stream, stream_version{1}, 0).code() == errc::invalid_batch_size);
  CHECK(store->read_stream(stream, stream_version{1}, 10001).code() == errc::invalid_batch_size);
}

TEST_CASE("read_category and read_all read the log in position order, batch by batch") {
  auto store = make_store();
  const auto category = unique_category("cat");
  const log_position before = store->safe_head();
  for (int i = 0; i < 6; ++i) {
    append_n(*store, stream_in(category, "a"), 1);
    append_n(*store, stream_in(category, "b"), 1);
  }
  append_n(*store, stream_in(unique_category("othercat"), "a"), 3);

  std::vector<std::size_t> sizes;
  std::vector<recorded_event> seen;
  const auto end = store->for_each_log_batch(category, log_position{}, 5, [&](const log_batch& batch) {
    sizes.push_back(batch.events.size());
    seen.insert(seen.end(), batch.events.begin(), batch.events.end());
  });
  CHECK(sizes == std::vector<std::size_t>{5, 5, 2});
  REQUIRE(seen.size() == 12);
  CHECK(end.value() == seen.back().position);
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i - 1].position < seen[i].position);
  for (const auto& event : seen) CHECK(event.stream.category() == category);

  const auto all = store->read_all(before, 10000);
  REQUIRE(all.ok());
  std::size_t ours = 0;
  for (const auto& event : all.value().events) ours += event.stream.category() == category ? 1 : 0;
  CHECK(ours == 12);
  CHECK(store->read_category("not a category", log_position{}, 10).code() == errc::invalid_category);
  CHECK(store->read_all(log_position{}, 0).code() == errc::invalid_batch_size);
}

TEST_CASE("reads bounded by a time return only events recorded until then") {
  auto store = make_store();
  const auto category = unique_category("until");
  const auto stream = stream_in(category, "a");
  const log_position before = store->safe_head();
  append_n(*store, stream, 3);
  std::this_thread::sleep_for(20ms);
  append_n(*store, stream, 2);
  const auto events = cqrs::tests::whole_stream(*store, stream);
  REQUIRE(events.size() == 5);
  const timestamp until = events[2].recorded_at;
  CHECK(events[3].recorded_at > until);

  CHECK(store->read_stream(stream, stream_version{1}, 100, until).value().events.size() == 3);
  CHECK(store->read_category(category, log_position{}, 100, until).value().events.size() == 3);
  std::size_t ours = 0;
  const auto counted = store->for_each_log_batch(std::nullopt, before, 2, [&](const log_batch& batch) {
    for (const auto& event : batch.events) ours += event.stream == stream ? 1 : 0;
  }, until);
  REQUIRE(counted.ok());
  CHECK(ours == 3);
}

TEST_CASE("an open write transaction holds the safe head back without losing anything") {
  auto store = make_store();
  const auto stream = stream_in(unique_category("held"), "a");
  append_n(*store, stream, 1);
  CHECK(store->safe_head() >= cqrs::tests::whole_stream(*store, stream).back().position);

  pqxx::connection holder_connection(cqrs::tests::pg_url());
  pqxx::work holder(holder_connection);
  holder.exec("SELECT pg_current_xact_id()");  // an xid older than the next append's
  std::this_thread::sleep_for(20ms);
  const auto appended = store->append(stream, expected_version::any(), {make_event("late", "x")});
  REQUIRE(appended.ok());
  const auto position = appended.value().last_position();

  CHECK(store->safe_head() < position);
  const auto lag = store->measure_xmin_lag();
  CHECK(lag.transactions_behind >= 1);
  CHECK(lag.oldest_writer_age_seconds >= 0.015);
  const auto hidden = store->read_category(stream.category(), log_position{}, 100).value();
  CHECK(hidden.events.size() == 1);  // the new event is not yet below the watermark

  holder.commit();
  CHECK(store->safe_head() >= position);
  CHECK(store->read_category(stream.category(), log_position{}, 100).value().events.size() == 2);
}

TEST_CASE("a tailing reader is woken by the commit notifier, and a burst gets one notification per interval") {
  // An interval far longer than the burst takes, so that how many notifications it may cause is
  // known: the first commit after a quiet spell is announced at once, and the commits during the
  // pause after it share one notification at its end.
  constexpr auto interval = std::chrono::milliseconds{1000};
  commit_notifier notifier(cqrs::tests::pg_url(), interval);
  auto options = cqrs::tests::store_options_for_tests();
  options.notifier = &notifier;
  auto store = make_store(options);
  log_tail tail(cqrs::tests::pg_url());
  CHECK(tail.wait(10ms));  // starting to listen: read once, anything may have been missed

  const auto stream = stream_in(unique_category("tail"), "a");
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(store->append(stream, expected_version::any(), {make_event("ping", "1")}).ok());
  CHECK(tail.wait(5s));
  REQUIRE(cqrs::tests::eventually([&] { return notifier.sent() == 1; }, 30s));
  append_n(*store, stream, 20);
  const auto burst = std::chrono::steady_clock::now() - started;
  REQUIRE(cqrs::tests::eventually([&] { return notifier.sent() >= 2; }, 30s));
  // Whatever else the burst could cause comes within one more interval: watch for it.
  std::this_thread::sleep_for(interval * 3 / 2);
  // Sends k >= 2 each need a commit after send k - 1, and sends are an interval apart, so all but
  // the last fall within the burst: at most 2 + (whole intervals the burst took), which is exactly
  // 2 unless the machine needed more than an interval for 21 appends.
  const auto whole_intervals = static_cast<std::uint64_t>(burst / interval);
  CAPTURE(whole_intervals);
  CHECK(notifier.sent() >= 2);
  CHECK(notifier.sent() <= 2 + whole_intervals);
  while (tail.wait(100ms)) {
  }
  CHECK_FALSE(tail.wait(50ms));
}
