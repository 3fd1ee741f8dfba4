#pragma once

// The Order domain's entry in the contracts catalog (schemas/contracts/catalog.cpp).

#include "schemas/contracts/domain_contracts.hpp"

namespace cqrs::schemas {

domain_contracts order_contracts();

}  // namespace cqrs::schemas
