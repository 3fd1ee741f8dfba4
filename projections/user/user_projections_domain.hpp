#pragma once

// The User domain's entry point into the projections catalog (projections/catalog.cpp).

#include "projections/registration.hpp"

namespace cqrs::projections::user {

// user_detail (Redis) and user_admin_list (PostgreSQL), both over the "user" category.
void register_projections(projection_registrar& out);

}  // namespace cqrs::projections::user
