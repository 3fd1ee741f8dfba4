#pragma once

// The Product aggregate's rejection codes as HTTP answers, in one exhaustive switch each (no
// `default:`, so a new code fails the build until it is mapped here); tests/unit/
// error_mapping_test.cpp checks every value.

#include <string_view>

#include "commands/product/product_errc.hpp"
#include "gateway/error_mapping.hpp"

namespace cqrs::gateway {

error_mapping map_error(commands::product::errc code);

// The request field a Product rejection is about ("price.currency"), when it is about one.
std::string_view field_of(commands::product::errc code);

}  // namespace cqrs::gateway
