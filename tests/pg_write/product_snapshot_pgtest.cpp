// Snapshots: written in the append's transaction every N events, so that an aggregate with
// 10,000 events loads from one snapshot and a short tail, into the same state a full replay gives.

#include <doctest/doctest.h>

#include <chrono>

#include <pqxx/nontransaction>

#include "tests/pg_write/write_fixture.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;
using commands::product::product_aggregate;
using commands::product::product_pipeline;

namespace {

// The state by folding every stored event, ignoring snapshots.
commands::product::product_state full_replay(core::event_store& store, const core::stream_id& stream) {
  auto state = product_aggregate::initial_state();
  for (const auto& e : whole_stream(store, stream)) {
    state = product_aggregate::evolve(std::move(state), product_aggregate::decode_event(e.type, e.schema_version, e.payload));
  }
  return state;
}

std::int64_t snapshot_rows(core::event_store& store, const core::stream_id& stream) {
  pqxx::nontransaction tx(store.connection().get());
  return tx.exec_params1("SELECT count(*) FROM snapshots WHERE stream_id = $1", stream.str())[0].as<std::int64_t>();
}

}  // namespace

TEST_CASE("an aggregate with 10,000 events loads from its latest snapshot and a short tail") {
  auto store = make_store();
  commands::pipeline_options options;
  options.snapshot_every = 128;
  product_pipeline pipeline(*store, options);
  const auto product = product_stream("long");
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("long"), 0), as("s")})));
  const auto started = std::chrono::steady_clock::now();
  for (int i = 2; i <= 10'000; ++i) {
    const auto outcome = pipeline.handle({product, schemas::restock_product{schemas::quantity(1)}, as("s")});
    REQUIRE(std::holds_alternative<commands::accepted>(outcome));
  }
  MESSAGE("9,999 restocks through the pipeline took "
          << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()
          << " ms");

  const auto loaded = pipeline.load(product);
  CHECK(loaded.version == core::stream_version{10'000});
  REQUIRE(loaded.snapshot_version.has_value());
  CHECK(*loaded.snapshot_version == core::stream_version{9'984});  // the last multiple of 128
  CHECK(loaded.tail_events == 16);
  CHECK(loaded.state.on_hand == 9'999);
  CHECK(loaded.state == full_replay(*store, product));
  CHECK(snapshot_rows(*store, product) == 10'000 / 128);
}

TEST_CASE("a snapshot is written with the append that crosses the interval, in the same transaction") {
  auto store = make_store();
  commands::pipeline_options options;
  options.snapshot_every = 3;
  product_pipeline pipeline(*store, options);
  const auto product = product_stream("short");
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("short"), 5), as("s")})));
  CHECK(snapshot_rows(*store, product) == 0);
  for (int i = 0; i < 2; ++i) (void)pipeline.handle({product, schemas::restock_product{schemas::quantity(1)}, as("s")});
  const auto snap = store->latest_snapshot(product);
  REQUIRE(snap.has_value());
  CHECK(snap->version == core::stream_version{3});
  CHECK(snap->schema_version == product_aggregate::snapshot_schema_version);
  CHECK(product_aggregate::decode_snapshot(snap->schema_version, snap->state) == full_replay(*store, product));
}

TEST_CASE("with snapshots off the aggregate is replayed from its first event, batch after batch") {
  auto store = make_store();
  commands::pipeline_options options;
  options.snapshot_every = 0;
  options.read_batch = 3;
  product_pipeline pipeline(*store, options);
  const auto product = product_stream("nosnap");
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("nosnap"), 5), as("s")})));
  for (int i = 0; i < 5; ++i) (void)pipeline.handle({product, schemas::restock_product{schemas::quantity(1)}, as("s")});
  const auto loaded = pipeline.load(product);
  CHECK_FALSE(loaded.snapshot_version.has_value());
  CHECK(loaded.tail_events == 6);
  CHECK(loaded.version == core::stream_version{6});
  CHECK(loaded.state.on_hand == 10);
  CHECK(snapshot_rows(*store, product) == 0);
}
