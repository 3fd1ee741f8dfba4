#pragma once

// The Order aggregate's refusals as HTTP answers (one exhaustive switch: a new code does not
// compile until it is mapped), and the request field each is about.

#include <string_view>

#include "commands/order/order_errc.hpp"
#include "gateway/error_mapping.hpp"

namespace cqrs::gateway {

error_mapping map_error(commands::order::errc code);
// The request's field ("lines", "shipping_address", "payment.card_token", "amount"), or "".
std::string_view field_of(commands::order::errc code);

}  // namespace cqrs::gateway
