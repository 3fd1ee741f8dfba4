#pragma once

// What every domain's projection world (projection_fixture.hpp, user_world.hpp) opens and how it
// appends: header-only, so each world keeps its own members and readers.

#include <memory>
#include <vector>

#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/catalog.hpp"
#include "projections/redis_client.hpp"
#include "projections/target.hpp"
#include "schemas/contracts/catalog.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

// The run's event store (every contract's upcasters registered in `upcasters`), a Redis
// connection, the scope's default projections and their targets, as a projections process builds
// them.
inline void open_world(const projections::projection_scope& scope, core::upcaster_registry& upcasters,
                       std::unique_ptr<core::event_store>& store, std::unique_ptr<projections::redis_client>& redis,
                       projections::projection_set& projections, std::unique_ptr<projections::target_set>& targets) {
  schemas::register_upcasters(upcasters);
  core::store_options options;
  options.url = pg_url();
  options.upcasters = &upcasters;
  store = std::make_unique<core::event_store>(options);
  redis = std::make_unique<projections::redis_client>(redis_url());
  projections = projections::default_projections(scope);
  targets = std::make_unique<projections::target_set>(projections, *redis, *store, pg_url());
}

// Appends `batch` to `stream`, any expected version; the events this append stored.
inline std::vector<core::recorded_event> append_batch_any_version(core::event_store& store, const core::stream_id& stream,
                                                                  std::vector<core::new_event> batch) {
  const auto before = store.current_version(stream);
  (void)store.append(stream, core::expected_version::any(), std::move(batch)).value();
  std::vector<core::recorded_event> added;
  (void)store
      .for_each_stream_batch(stream, core::stream_version{before.value() + 1}, 100,
                             [&](const core::stream_batch& b) { added.insert(added.end(), b.events.begin(), b.events.end()); })
      .value();
  return added;
}

// Appends `events` (each through its contract's encode) to `stream`, any expected version; the
// events this append stored.
template <typename Event>
std::vector<core::recorded_event> append_any_version(core::event_store& store, const core::stream_id& stream,
                                                     const std::vector<Event>& events) {
  std::vector<core::new_event> batch;
  for (const auto& event : events) {
    auto encoded = encode(event);  // found by argument-dependent lookup in the event's namespace
    batch.push_back({encoded.type, encoded.schema_version, encoded.data, std::nullopt});
  }
  return append_batch_any_version(store, stream, std::move(batch));
}

}  // namespace cqrs::tests
