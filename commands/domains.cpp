#include "commands/domains.hpp"

// The domains: one include and one line of the list below each.
#include "commands/order/order_domain.hpp"
#include "commands/payment/payment_domain.hpp"
#include "commands/product/product_domain.hpp"
#include "commands/user/user_domain.hpp"

namespace cqrs::commands {

const aggregate_registry& aggregates() {
  static const aggregate_registry registry = [] {
    aggregate_registry all;
    product::register_aggregates(all);
    user::register_aggregates(all);
    order::register_aggregates(all);
    payment::register_aggregates(all);
    return all;
  }();
  return registry;
}

}  // namespace cqrs::commands
