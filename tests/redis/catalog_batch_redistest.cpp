// The PostgreSQL target's batch path (one transaction, a few statements per batch, each product's
// events folded in memory) against the same events applied one at a time: same rows, same
// applied versions, same counts.

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "core/errors.hpp"
#include "core/pg_arrays.hpp"
#include "projections/pg_target.hpp"
#include "projections/product/product_projections.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using cqrs::tests::one_at_a_time;
using cqrs::tests::product_ids;
using cqrs::tests::projection_world;

namespace {

std::vector<core::recorded_event> history(projection_world& world, const std::string& id) {
  return tests::product_history(world, id);
}

schemas::product_details_updated details(const std::string& name, const std::string& description) {
  return {name, description};
}
schemas::product_price_changed price(std::int64_t minor) {
  return {schemas::money{minor, schemas::currency_code("USD")}};
}

void check_same(const projections::apply_counts& a, const projections::apply_counts& b) {
  CHECK(a.applied == b.applied);
  CHECK(a.duplicates == b.duplicates);
  CHECK(a.filled == b.filled);
}

}  // namespace

TEST_CASE("a batch with duplicates and gaps gives the rows and counts of its events one at a time") {
  projection_world batched("bdup");
  projection_world single("bdupref");
  // Two products; the delivery repeats versions, skips some (pulled from the store) and repeats
  // an event it had already overtaken.
  const std::vector<int> picks = {0, 1, 1, 3, 0, 2, 5, 4};
  const auto [batch, reference] = tests::picked_histories(batched, single, picks);
  const auto counts = batched.catalog().apply(batch);
  check_same(counts, one_at_a_time(single.catalog(), reference));
  CHECK(counts.applied == 12);
  CHECK(counts.filled == 4);
  CHECK(counts.duplicates == 8);
  CHECK(batched.pg_digest({"p1", "p2"}) == single.pg_digest({"p1", "p2"}));
  CHECK(batched.catalog().applied_version(batched.stream("p1")).value() == 6);
  CHECK(batched.catalog().applied_version(batched.stream("p2")).value() == 6);
}

TEST_CASE("a batch that touches many products interleaved gives the rows of an in-order pass") {
  projection_world batched("bmany");
  projection_world single("bmanyref");
  const auto ids = product_ids(60);
  std::vector<std::vector<core::recorded_event>> per_product, reference;
  for (const auto& id : ids) {
    per_product.push_back(history(batched, id));
    reference.push_back(history(single, id));
  }
  // Round robin: version 1 of every product, then version 2 of every product, ...
  std::vector<core::recorded_event> batch;
  for (std::size_t v = 0; v < per_product.front().size(); ++v) {
    for (const auto& events : per_product) batch.push_back(events[v]);
  }
  const auto counts = batched.catalog().apply(batch);
  CHECK(counts.applied == batch.size());
  for (const auto& events : reference) single.catalog().apply(events);
  CHECK(batched.pg_digest(ids) == single.pg_digest(ids));
}

TEST_CASE("redelivering a whole batch changes neither rows nor applied versions") {
  projection_world world("bredeliver");
  const auto ids = product_ids(5);
  std::vector<core::recorded_event> batch;
  for (const auto& id : ids) {
    const auto events = history(world, id);
    batch.insert(batch.end(), events.begin(), events.end());
  }
  CHECK(world.catalog().apply(batch).applied == batch.size());
  const auto before = world.pg_digest(ids);
  const auto again = world.catalog().apply(batch);
  CHECK(again.applied == 0);
  CHECK(again.filled == 0);
  CHECK(again.duplicates == batch.size());
  CHECK(world.pg_digest(ids) == before);
  for (const auto& id : ids) CHECK(world.catalog().applied_version(world.stream(id)).value() == 6);
}

TEST_CASE("a batch that creates a product and updates it gives the row of its events one at a time") {
  projection_world batched("bcreate");
  projection_world single("bcreateref");
  // Text that an array literal must quote: commas, braces, quotes, backslashes, the word NULL.
  const std::vector<schemas::product_event> events = {
      tests::created("SKU-1", 7, 1500),
      tests::restocked(3),
      details("Tea, \"green\" {loose} \\ NULL", "NULL"),
      tests::reserved("r1", 4),
      price(990),
      tests::committed("r1", 4),
      schemas::product_discontinued{"season over"},
  };
  const auto b = batched.append("p1", events);
  const auto r = single.append("p1", events);
  check_same(batched.catalog().apply(b), one_at_a_time(single.catalog(), r));
  const auto digest = batched.pg_digest({"p1"});
  CHECK(digest == single.pg_digest({"p1"}));
  CHECK(digest.find("Tea, \"green\" {loose} \\ NULL") != std::string::npos);
  // on_hand 7 + 3 - 4, reserved 0, available 6, discontinued, stream version 7.
  CHECK(digest.find("\n  990\n  USD\n  6\n  0\n  6\n  t\n  7\n") != std::string::npos);

  // Later batches update the existing row; a creation of an existing row changes nothing.
  const auto more_b = batched.append("p1", {tests::restocked(10), tests::created("SKU-other", 99)});
  const auto more_r = single.append("p1", {tests::restocked(10), tests::created("SKU-other", 99)});
  check_same(batched.catalog().apply(more_b), one_at_a_time(single.catalog(), more_r));
  CHECK(batched.pg_digest({"p1"}) == single.pg_digest({"p1"}));
  CHECK(batched.pg_digest({"p1"}).find("\n  16\n  0\n  16\n  t\n  8\n") != std::string::npos);

  // New text on an existing row (the statement that also recomputes the search vector).
  const auto text_b = batched.append("p1", {tests::restocked(1), details("Black tea", "Strong")});
  const auto text_r = single.append("p1", {tests::restocked(1), details("Black tea", "Strong")});
  check_same(batched.catalog().apply(text_b), one_at_a_time(single.catalog(), text_r));
  CHECK(batched.pg_digest({"p1"}) == single.pg_digest({"p1"}));
  CHECK(batched.pg_digest({"p1"}).find("'black':1 'strong':3 'tea':2") != std::string::npos);
}

TEST_CASE("updates of a product whose creation was skipped change nothing, in a batch as one at a time") {
  projection_world batched("bnocreate");
  projection_world single("bnocreateref");
  const auto b = history(batched, "p1");
  const auto r = history(single, "p1");
  batched.catalog().skip(b[0]);
  single.catalog().skip(r[0]);
  check_same(batched.catalog().apply(b), one_at_a_time(single.catalog(), r));
  CHECK(batched.pg_digest({"p1"}) == "p1 missing\n");
  CHECK(single.pg_digest({"p1"}) == "p1 missing\n");
  CHECK(batched.catalog().applied_version(batched.stream("p1")).value() == 6);
}

TEST_CASE("a poison event fails the whole batch: no row and no applied version changes") {
  projection_world world("bpoison");
  const auto good = history(world, "p1");
  auto bad = history(world, "p2");
  bad[2].payload = "not a cereal archive";
  std::vector<core::recorded_event> batch = good;
  batch.insert(batch.end(), bad.begin(), bad.end());
  CHECK_THROWS_AS(world.catalog().apply(batch), projections::handler_error);
  CHECK(world.catalog().applied_version(world.stream("p1")).value() == 0);
  CHECK(world.catalog().applied_version(world.stream("p2")).value() == 0);
  CHECK(world.pg_digest({"p1", "p2"}) == "p1 missing\np2 missing\n");
  // The good stream alone still applies (what the projector's per-event fallback does).
  CHECK(world.catalog().apply(good).applied == 6);
}

TEST_CASE("the target's prepared statements are prepared again after its connection is killed") {
  projection_world world("breconnect");
  const std::string app = "catalog_batch_" + tests::run_id();
  projections::product_catalog_projection projection(world.category(), world.catalog_name());
  projections::pg_target target(tests::with_url_parameter(tests::pg_url(), "application_name=" + app), world.store(), projection);
  const auto events = history(world, "p1");
  CHECK(target.apply(std::span(events).first(2), std::nullopt).applied == 2);
  {
    pqxx::connection admin(tests::pg_url());
    pqxx::work tx(admin);
    const auto killed =
        tx.exec_params("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name = $1) AS k",
                       app);
    REQUIRE(killed[0][0].as<int>() == 1);
  }
  // The first use may find the connection dead: that is a lost connection and nothing else (what
  // a projector retries the batch after), and nothing of it was applied. After that the target
  // reconnects and its prepared statements run on the new session.
  std::uint64_t applied_by_first = 0;
  try {
    applied_by_first = target.apply(std::span(events).subspan(2, 1), std::nullopt).applied;
    CHECK(applied_by_first == 1);
  } catch (const std::exception&) {
    // Anything libpqxx did not throw leaves here unchanged and fails the test.
    const auto failure = core::detail::to_store_error(std::current_exception(), core::statement_effect::none_on_failure);
    CAPTURE(failure.what());
    CHECK(failure.kind() == core::failure_kind::connection);
    CHECK(target.applied_version(world.stream("p1")).value() == 2);
  }
  CHECK(target.apply(std::span(events), std::nullopt).applied == 4 - applied_by_first);
  CHECK(target.applied_version(world.stream("p1")).value() == 6);
  CHECK(world.pg_digest({"p1"}).find("\n  12\n  0\n  12\n  f\n  6\n") != std::string::npos);
}

TEST_CASE("array literals quote text so that PostgreSQL reads every item back unchanged") {
  const std::vector<std::string> items = {"", "a,b", "{x}", "\"q\"", "back\\slash", "NULL", " spaced ", "ünï"};
  pqxx::connection connection(tests::pg_url());
  pqxx::work tx(connection);
  const auto rows =
      tx.exec_params("SELECT s FROM unnest($1::text[]) WITH ORDINALITY AS t(s, i) ORDER BY i",
                     core::pg_array(items));
  REQUIRE(rows.size() == items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    CHECK_FALSE(rows[static_cast<int>(i)][0].is_null());
    CHECK(rows[static_cast<int>(i)][0].as<std::string>() == items[i]);
  }
  CHECK(core::pg_array(std::vector<std::int64_t>{-1, 0, 42}) == "{-1,0,42}");
  CHECK(core::pg_array(std::vector<bool>{true, false}) == "{t,f}");
}
