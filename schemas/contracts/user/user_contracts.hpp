#pragma once

// The User domain's entry in the contracts catalog (schemas/contracts/catalog.cpp).

#include "schemas/contracts/domain_contracts.hpp"

namespace cqrs::schemas {

domain_contracts user_contracts();

}  // namespace cqrs::schemas
