// The gap test: writers whose sequence, transaction-id and commit orders disagree, a
// reader tailing the global log that must see every event exactly once in one stable order, and
// the naive `seq > checkpoint AND xid < xmin` reader as the negative control that must skip.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "core/event_store.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs::core;
using namespace std::chrono_literals;

namespace {

constexpr int writer_count = 16;
constexpr int events_per_writer = 250;
constexpr std::size_t total_events = writer_count * events_per_writer;

void random_pause(std::mt19937& rng) {
  std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(rng)));
}

// Takes its xid first, then (after a pause) its seq by inserting, then pauses again before the
// commit: concurrent writers interleave so that xid order, seq order and commit order differ.
void write_slowly(const std::string& category, int writer, std::atomic<int>& failures) {
  auto store = cqrs::tests::make_store();
  const auto stream = cqrs::tests::stream_in(category, "w" + std::to_string(writer));
  std::mt19937 rng(static_cast<unsigned>(writer) * 7919u + 17u);
  for (int i = 0; i < events_per_writer; ++i) {
    pqxx::work tx(store->connection().get());
    tx.exec("SELECT pg_current_xact_id()");
    random_pause(rng);
    const append_request request{stream, expected_version::exact(stream_version{i}),
                                 {cqrs::tests::make_event("gap.tick", std::to_string(i))}};
    if (!store->append_in(tx, request).ok()) ++failures;
    random_pause(rng);
    tx.commit();
  }
}

// The store's reader: read_all from a checkpoint, keeping only this round's category.
std::vector<event_id> tail_correctly(const std::string& category, log_position from) {
  auto store = cqrs::tests::make_store();
  std::vector<event_id> seen;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (seen.size() < total_events && std::chrono::steady_clock::now() < deadline) {
    const auto batch = store->read_all(from, 500).value();
    for (const auto& event : batch.events) {
      if (event.stream.category() == category) seen.push_back(event.id);
    }
    from = batch.next;
    if (batch.events.empty()) std::this_thread::sleep_for(300us);
  }
  return seen;
}

// The negative control: checkpoint by seq, watermark by xmin, ordered by seq. Wrong on purpose.
std::vector<event_id> tail_naively(const std::string& category, const std::atomic<bool>& writers_done) {
  pqxx::connection connection(cqrs::tests::pg_url());
  std::vector<event_id> seen;
  std::int64_t checkpoint = 0;
  for (;;) {
    const bool finished = writers_done.load();
    pqxx::nontransaction tx(connection);
    const auto rows = tx.exec_params(
        "SELECT seq, event_id FROM events WHERE category = $1 AND seq > $2"
        " AND xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY seq LIMIT 500",
        category, checkpoint);
    for (const auto& row : rows) {
      checkpoint = row[0].as<std::int64_t>();
      seen.push_back(event_id::parse(row[1].c_str()).value());
    }
    if (rows.empty() && finished) return seen;
    if (rows.empty()) std::this_thread::sleep_for(300us);
  }
}

struct round_outcome {
  std::vector<event_id> tailed;
  std::vector<event_id> naive;
  std::vector<recorded_event> final_read;
  int failures = 0;
};

round_outcome run_round(const std::string& category) {
  round_outcome outcome;
  auto store = cqrs::tests::make_store();
  const log_position start = store->safe_head();
  std::atomic<bool> writers_done{false};
  std::atomic<int> failures{0};
  std::thread tailer([&] { outcome.tailed = tail_correctly(category, start); });
  std::thread naive([&] { outcome.naive = tail_naively(category, writers_done); });
  std::vector<std::thread> writers;
  for (int w = 0; w < writer_count; ++w) writers.emplace_back([&, w] { write_slowly(category, w, failures); });
  for (auto& t : writers) t.join();
  writers_done = true;
  tailer.join();
  naive.join();
  outcome.failures = failures.load();
  outcome.final_read = cqrs::tests::whole_category(*store, category);
  return outcome;
}

// Pairs of neighbours (in log order) whose seq order is reversed: evidence that the scenario
// really made the orders disagree.
std::size_t seq_inversions(const std::vector<recorded_event>& log) {
  std::size_t inversions = 0;
  for (std::size_t i = 1; i < log.size(); ++i) inversions += log[i].position.seq() < log[i - 1].position.seq() ? 1 : 0;
  return inversions;
}

void check_tailer_exact(const round_outcome& outcome) {
  REQUIRE(outcome.final_read.size() == total_events);
  std::vector<event_id> final_order;
  for (const auto& event : outcome.final_read) final_order.push_back(event.id);
  CHECK(std::set<event_id>(final_order.begin(), final_order.end()).size() == total_events);
  // Exactly once each, and in the same order as a full read afterwards.
  CHECK(outcome.tailed == final_order);
}

}  // namespace

TEST_CASE("the gap test: a tailing reader sees every event once in one stable order; the naive reader skips") {
  std::size_t naive_skipped = 0;
  for (int round = 1; round <= 3 && naive_skipped == 0; ++round) {
    const auto category = cqrs::tests::unique_category("gap") + "_r" + std::to_string(round);
    const auto outcome = run_round(category);
    CHECK(outcome.failures == 0);
    check_tailer_exact(outcome);
    const std::set<event_id> naive_unique(outcome.naive.begin(), outcome.naive.end());
    CHECK(naive_unique.size() == outcome.naive.size());  // it skips, it never doubles
    naive_skipped = total_events - naive_unique.size();
    MESSAGE("round ", round, ": ", total_events, " events, ", seq_inversions(outcome.final_read),
            " seq inversions in log order, tailing reader saw ", outcome.tailed.size(), ", naive reader skipped ",
            naive_skipped);
  }
  // The negative control: the naive reader must have been caught skipping.
  CHECK(naive_skipped > 0);
}
