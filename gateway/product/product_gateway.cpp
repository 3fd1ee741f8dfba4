#include "gateway/product/product_gateway.hpp"

#include "commands/product/product_aggregate.hpp"
#include "gateway/product/product_command_routes.hpp"
#include "gateway/product/product_query_routes.hpp"

namespace cqrs::gateway {

namespace {

using commands::product::product_aggregate;

void add_routes(router& r, const domain_context& context) {
  add_product_command_routes(r, {context.caches.find<product_aggregate>(), context.pipeline});
  add_product_query_routes(r, context.config, &context.lag);
}

}  // namespace

gateway_domain product_gateway() {
  return {"product", {product_aggregate::category}, add_command_cache<product_aggregate>, add_routes};
}

}  // namespace cqrs::gateway
