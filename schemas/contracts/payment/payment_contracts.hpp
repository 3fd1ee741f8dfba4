#pragma once

// The Payment domain's entry in the contracts catalog (schemas/contracts/catalog.cpp).

#include "schemas/contracts/domain_contracts.hpp"

namespace cqrs::schemas {

domain_contracts payment_contracts();

}  // namespace cqrs::schemas
