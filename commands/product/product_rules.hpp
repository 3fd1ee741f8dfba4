#pragma once

// The checks of single values the Product commands carry. Each returns the rejection, or nothing
// when the value is acceptable. Pure; exposed for tests and for callers that pre-validate input.

#include <cstdint>
#include <optional>
#include <string_view>

#include "commands/product/product_errc.hpp"
#include "schemas/contracts/product/product_values.hpp"

namespace cqrs::commands::product::rules {

std::optional<rejection> check_sku(const schemas::sku& code);
std::optional<rejection> check_name(std::string_view name);
std::optional<rejection> check_description(std::string_view description);
std::optional<rejection> check_price(const schemas::money& price);
std::optional<rejection> check_quantity(const schemas::quantity& units);
std::optional<rejection> check_initial_stock(std::int64_t units);
std::optional<rejection> check_reservation_id(const schemas::reservation_id& id);
std::optional<rejection> check_reason(std::string_view reason);

bool is_valid_utf8(std::string_view text);

}  // namespace cqrs::commands::product::rules
