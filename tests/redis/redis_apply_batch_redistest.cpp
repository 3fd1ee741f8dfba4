// The Redis target's batch path (one Lua call per run of events, the calls pipelined) against the
// same events applied one at a time: same model, same applied versions, same counts; and what a
// call that fails midway leaves behind.

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "projections/product/product_projections.hpp"
#include "projections/redis_client.hpp"
#include "tests/redis/projection_fixture.hpp"

using namespace cqrs;
using cqrs::tests::one_at_a_time;
using cqrs::tests::product_ids;
using cqrs::tests::projection_world;

TEST_CASE("one call applies a delivery with repeats and holes as its events one at a time") {
  projection_world batched("rdup");
  projection_world single("rdupref");
  // The same stream several times in one call: the script must see its own earlier changes.
  const std::vector<int> picks = {0, 1, 1, 3, 0, 2, 5, 4};
  const auto [batch, reference] = tests::picked_histories(batched, single, picks);
  const auto counts = batched.detail().apply(batch);
  one_at_a_time(single.detail(), reference);
  // Per stream, in the call: v1, v2 applied; v2 repeated; v4 a gap; v1 repeated; v3 applied (it
  // closes the hole v4 found); v6 and v5 gaps. Then, in order: v4 applied alone, v6 after
  // pulling v5 from the store, and v5 a duplicate by then. Every version applied exactly once.
  CHECK(counts.applied == 12);
  CHECK(counts.filled == 2);
  CHECK(counts.duplicates == 6);
  CHECK(batched.redis_digest({"p1", "p2"}) == single.redis_digest({"p1", "p2"}));
  CHECK(batched.detail().applied_version(batched.stream("p1")).value() == 6);
  CHECK(batched.detail().applied_version(batched.stream("p2")).value() == 6);
  // The first call made the live pointer; the one-at-a-time world made it too, once.
  CHECK(batched.detail().take_live_pointer_made());
  CHECK_FALSE(batched.detail().take_live_pointer_made());
}

TEST_CASE("a run longer than one call, interleaved over many products, gives the model of an in-order pass") {
  projection_world batched("rmany");
  projection_world single("rmanyref");
  const auto ids = product_ids(60);  // 360 events: several pipelined calls
  std::vector<std::vector<core::recorded_event>> per_product;
  for (const auto& id : ids) {
    per_product.push_back(tests::product_history(batched, id));
    single.detail().apply(tests::product_history(single, id));
  }
  std::vector<core::recorded_event> batch;
  for (std::size_t v = 0; v < per_product.front().size(); ++v) {
    for (const auto& events : per_product) batch.push_back(events[v]);
  }
  CHECK(batched.detail().apply(batch).applied == batch.size());
  CHECK(batched.redis_digest(ids) == single.redis_digest(ids));
  const auto again = batched.detail().apply(batch);
  CHECK(again.applied == 0);
  CHECK(again.duplicates == batch.size());
  CHECK(batched.redis_digest(ids) == single.redis_digest(ids));
}

TEST_CASE("a call that fails midway keeps the events before the failure applied and marked") {
  projection_world world("rfail");
  projection_world reference("rfailref");
  auto batch = tests::product_history(world, "p1");
  const auto second = tests::product_history(world, "p2");
  batch.insert(batch.end(), second.begin(), second.end());
  reference.detail().apply(tests::product_history(reference, "p1"));
  reference.detail().apply(tests::product_history(reference, "p2"));

  // p2's hash key holds a string: its first change fails with WRONGTYPE, inside the same call
  // that applied p1's six events.
  const auto key = world.detail().live_model() + ":product:p2";
  world.redis().checked({"SET", key, "not a hash"});
  CHECK_THROWS_AS(world.detail().apply(batch), projections::redis_error);
  CHECK(world.detail().applied_version(world.stream("p1")).value() == 6);
  CHECK(world.detail().applied_version(world.stream("p2")).value() == 0);
  CHECK(world.redis_digest({"p1"}) == reference.redis_digest({"p1"}));

  // Redelivered once the key is repaired: p1's events are duplicates, p2's apply once.
  world.redis().checked({"DEL", key});
  const auto again = world.detail().apply(batch);
  CHECK(again.duplicates == 6);
  CHECK(again.applied == 6);
  CHECK(world.redis_digest({"p1", "p2"}) == reference.redis_digest({"p1", "p2"}));
}
