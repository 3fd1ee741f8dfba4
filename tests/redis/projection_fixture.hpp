#pragma once

// Shared helpers of the redis suite: a projection scope, projections and stores of this run's own,
// and Product events appended to the event store.

#include <memory>
#include <string>
#include <vector>

#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/catalog.hpp"
#include "projections/redis_client.hpp"
#include "projections/target.hpp"
#include "schemas/contracts/product/product_events.hpp"

namespace cqrs::tests {

// Random per process, `[a-z0-9]{10}`.
const std::string& run_id();

// One test's isolated world: every registered projection under the scope `<prefix>_<run id>`
// (product_detail_<scope> and product_catalog_<scope> over the category product_<scope>), with
// the same targets a projections process builds.
class projection_world {
 public:
  explicit projection_world(const std::string& prefix);

  const projections::projection_scope& scope() const { return scope_; }
  const std::string& category() const { return category_; }
  core::stream_id stream(const std::string& id) const;
  core::event_store& store() { return *store_; }
  projections::redis_client& redis() { return *redis_; }
  projections::projection_target& detail() { return *targets_->find(detail_name_); }
  projections::projection_target& catalog() { return *targets_->find(catalog_name_); }
  const projections::target_set& targets() const { return *targets_; }
  const std::string& detail_name() const { return detail_name_; }
  const std::string& catalog_name() const { return catalog_name_; }

  // Appends to the stream (any expected version); returns the stored events.
  std::vector<core::recorded_event> append(const std::string& id, const std::vector<schemas::product_event>& events);
  std::vector<core::recorded_event> whole_stream(const std::string& id);
  // Appends encoded events to any stream of the store (any expected version); returns them stored.
  std::vector<core::recorded_event> append_to(const core::stream_id& stream, std::vector<core::new_event> batch);

  // Every key and row of both models for the given product ids, as one comparable text.
  std::string redis_digest(const std::vector<std::string>& ids);
  std::string pg_digest(const std::vector<std::string>& ids);

 private:
  projections::projection_scope scope_;
  std::string category_;
  std::string detail_name_;
  std::string catalog_name_;
  core::upcaster_registry upcasters_;
  std::unique_ptr<core::event_store> store_;
  std::unique_ptr<projections::redis_client> redis_;
  projections::projection_set projections_;
  std::unique_ptr<projections::target_set> targets_;
};

schemas::product_created created(const std::string& sku, std::int64_t stock, std::int64_t price = 1000);
schemas::product_restocked restocked(std::int64_t n);
schemas::stock_reserved reserved(const std::string& reservation, std::int64_t n);
schemas::reservation_committed committed(const std::string& reservation, std::int64_t n);
schemas::reservation_released released(const std::string& reservation, std::int64_t n);

// A product's six-event life (created, restocked, a reservation committed, another released),
// appended to its stream; returns the stored events.
std::vector<core::recorded_event> product_history(projection_world& world, const std::string& id);

// Each event applied by itself, the counts summed: the reference a batch is compared with.
projections::apply_counts one_at_a_time(projections::projection_target& target,
                                        const std::vector<core::recorded_event>& events);
// One delivery for two worlds alike: products p1's and p2's histories, each as the events at
// `picks` (indexes into the history), in that order: a delivery with repeats and holes;
// `batch` holds the events of `batched`, `reference` those of `single`.
struct twin_delivery {
  std::vector<core::recorded_event> batch;
  std::vector<core::recorded_event> reference;
};
twin_delivery picked_histories(projection_world& batched, projection_world& single, const std::vector<int>& picks);
// "p0", "p1", ... "p<n - 1>".
std::vector<std::string> product_ids(int n);

}  // namespace cqrs::tests
