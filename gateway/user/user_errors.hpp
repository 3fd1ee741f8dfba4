#pragma once

// The User aggregate's refusals as HTTP answers (one exhaustive switch: a new code does not
// compile until it is mapped), and the request field each is about.

#include <string_view>

#include "commands/user/user_errc.hpp"
#include "gateway/error_mapping.hpp"

namespace cqrs::gateway {

error_mapping map_error(commands::user::errc code);
// The request's field ("address" where the aggregate says postal_address), or "".
std::string_view field_of(commands::user::errc code);

}  // namespace cqrs::gateway
