#include "gateway/payment/payment_gateway.hpp"

#include "gateway/payment/payment_routes.hpp"

namespace cqrs::gateway {

namespace {

void add_caches(command_caches&, const gateway_config&) {}

void add_routes(router& r, const domain_context& context) { payment::add_payment_routes(r, context); }

}  // namespace

gateway_domain payment_gateway() {
  return {"payment", {payment::payment_binding::aggregate::category}, add_caches, add_routes};
}

}  // namespace cqrs::gateway
