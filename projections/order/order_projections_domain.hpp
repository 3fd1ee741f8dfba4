#pragma once

// The Order domain's entry point into the projections catalog (projections/catalog.cpp).

#include "projections/registration.hpp"

namespace cqrs::projections::order {

// order_detail (Redis) and order_list (PostgreSQL) over the "order" category, order_payment
// (Redis) over "payment": the payment's status shown with its order.
void register_projections(projection_registrar& out);

}  // namespace cqrs::projections::order
