#pragma once

// One test's isolated world for the Order read models (redis suite): every registered projection
// under the scope `<prefix>_<run id>`, Order and Payment events appended to the scope's `order`
// and `payment` categories, and readers of the three order models.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/catalog.hpp"
#include "projections/order/order_projections.hpp"
#include "projections/redis_client.hpp"
#include "projections/target.hpp"
#include "schemas/contracts/order/order_events.hpp"
#include "schemas/contracts/payment/payment_events.hpp"

namespace cqrs::tests {

class order_world {
 public:
  explicit order_world(const std::string& prefix);

  projections::projection_target& detail() { return *targets_->find(detail_name_); }
  projections::projection_target& payments() { return *targets_->find(payment_name_); }
  projections::projection_target& list() { return *targets_->find(list_name_); }
  core::event_store& store() { return *store_; }
  const std::string& order_category() const { return order_category_; }
  const std::string& payment_category() const { return payment_category_; }

  // Appends to the stream and applies what was appended to the models of its category.
  void order(const std::string& id, const std::vector<schemas::order_event>& events);
  void payment(const std::string& id, const std::vector<schemas::payment_event>& events);

  std::optional<projections::order::order_view> read(const std::string& id);
  std::optional<projections::order::order_view> fold(const std::string& id);
  std::vector<projections::order::order_view> page(projections::order::order_list_query q);
  // Every model's content for the given orders, as one comparable text.
  std::string digest(const std::vector<std::string>& ids);

 private:
  std::vector<core::recorded_event> append(const core::stream_id& stream, std::vector<core::new_event> batch);

  projections::projection_scope scope_;
  std::string order_category_;
  std::string payment_category_;
  std::string detail_name_;
  std::string payment_name_;
  std::string list_name_;
  core::upcaster_registry upcasters_;
  std::unique_ptr<core::event_store> store_;
  std::unique_ptr<projections::redis_client> redis_;
  projections::projection_set projections_;
  std::unique_ptr<projections::target_set> targets_;
};

}  // namespace cqrs::tests
