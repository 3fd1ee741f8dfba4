#include "gateway/order/order_gateway.hpp"

#include "gateway/order/order_query_routes.hpp"
#include "gateway/order/order_routes.hpp"

namespace cqrs::gateway {

namespace {

using order::order_binding;

void add_routes(router& r, const domain_context& context) {
  order::add_order_command_routes(r, context);
  order::add_order_query_routes(r, context);
}

}  // namespace

gateway_domain order_gateway() {
  return {"order", {order_binding::aggregate::category}, add_command_cache<order_binding::aggregate>, add_routes};
}

}  // namespace cqrs::gateway
