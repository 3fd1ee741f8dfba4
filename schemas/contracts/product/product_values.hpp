#pragma once

// The Product domain's own value types (its other contracts use the shared ones of
// value_types.hpp). Other domains may name them: an order's reservation is a product reservation.

#include <string>

#include "schemas/contracts/value_types.hpp"

namespace cqrs::schemas {

// Stock keeping unit: the merchant's product code, unique across products.
using sku = strong_value<std::string, struct sku_tag>;
// Chosen by the caller (typically the order), used once per product.
using reservation_id = strong_value<std::string, struct reservation_id_tag>;

}  // namespace cqrs::schemas
