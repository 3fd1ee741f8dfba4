#pragma once

// What the Order aggregate knows when it decides. Built only by folding events (`evolve`); the
// status moves only as the lifecycle (order_lifecycle.hpp) says.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "commands/order/order_lifecycle.hpp"
#include "schemas/contracts/order/order_events.hpp"
#include "schemas/contracts/order/order_values.hpp"

namespace cqrs::commands::order {

struct order_state {
  order_status status = order_status::none;
  schemas::customer_id customer;
  std::vector<schemas::order_line> lines;
  schemas::money total;
  schemas::shipping_address address;
  schemas::payment_id payment;
  std::string reason;        // why it was rejected or its payment failed
  std::string cancelled_by;  // "customer" or "admin" once cancelled
  bool refund_needed = false;  // cancelled after payment: the whole amount is to be refunded
  std::map<schemas::refund_id, std::int64_t> requested_refunds;  // asked for, not recorded yet (minor units)
  std::map<schemas::refund_id, std::int64_t> recorded_refunds;
  std::int64_t refunded_minor = 0;  // the sum of recorded refunds

  std::int64_t requested_minor() const {
    std::int64_t sum = 0;
    for (const auto& [id, amount] : requested_refunds) sum += amount;
    return sum;
  }

  friend bool operator==(const order_state&, const order_state&) = default;
};

// The lifecycle event an order event is (order.refunded: full or partial by its `full`).
lifecycle_event lifecycle_event_of(const schemas::order_event& event);

// Folds one event. Total: events are facts already checked by `decide`, so nothing is refused.
order_state evolve(order_state state, const schemas::order_event& event);

}  // namespace cqrs::commands::order
