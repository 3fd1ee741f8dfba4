#include "projections/order/order_projections_domain.hpp"

#include "projections/order/order_projections.hpp"

namespace cqrs::projections::order {

void register_projections(projection_registrar& out) {
  out.add<order_detail_projection>("order", "order_detail");
  out.add<order_payment_projection>("payment", "order_payment");
  out.add<order_list_projection>("order", "order_list");
  out.add<order_list_payment_projection>("payment", "order_list_payment");
}

}  // namespace cqrs::projections::order
