#pragma once

// One test's isolated world for the Order read models (redis suite): the suite's projection_world
// (every registered projection under the scope `<prefix>_<run id>`), Order and Payment events
// appended to the scope's `order` and `payment` categories, and readers of the four order models.

#include <optional>
#include <string>
#include <vector>

#include "projections/order/order_projections.hpp"
#include "schemas/contracts/order/order_events.hpp"
#include "schemas/contracts/payment/payment_events.hpp"
#include "tests/redis/projection_fixture.hpp"

namespace cqrs::tests {

class order_world {
 public:
  explicit order_world(const std::string& prefix);

  projections::projection_target& detail() { return target("order_detail"); }
  projections::projection_target& payments() { return target("order_payment"); }
  projections::projection_target& list() { return target("order_list"); }
  projections::projection_target& list_payments() { return target("order_list_payment"); }
  core::event_store& store() { return world_.store(); }
  std::string order_category() const { return world_.scope().category("order"); }
  std::string payment_category() const { return world_.scope().category("payment"); }

  // Appends to the stream and applies what was appended to the models of its category.
  void order(const std::string& id, const std::vector<schemas::order_event>& events);
  void payment(const std::string& id, const std::vector<schemas::payment_event>& events);

  std::optional<projections::order::order_view> read(const std::string& id);
  std::optional<projections::order::order_view> fold(const std::string& id);
  std::vector<projections::order::order_view> page(projections::order::order_list_query q);
  // Every model's content for the given orders, as one comparable text.
  std::string digest(const std::vector<std::string>& ids);

 private:
  projections::projection_target& target(std::string_view name) {
    return *world_.targets().find(world_.scope().projection(name));
  }

  projection_world world_;
};

}  // namespace cqrs::tests
