#pragma once

// The Product domain's entry point into the projections catalog (projections/catalog.cpp).

#include "projections/registration.hpp"

namespace cqrs::projections::product {

// product_detail (Redis) and product_catalog (PostgreSQL), both over the "product" category.
void register_projections(projection_registrar& out);

}  // namespace cqrs::projections::product
