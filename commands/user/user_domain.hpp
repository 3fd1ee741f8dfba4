#pragma once

// The User domain's entry in the list of aggregates (commands/domains.cpp), and the shape of its
// state as tools print it.

#include <string_view>

#include <boost/json/object.hpp>

#include "commands/aggregate_registry.hpp"
#include "commands/user/user_state.hpp"

namespace cqrs::commands::user {

void register_aggregates(aggregate_registry& registry);

std::string_view to_string(user_status status);

// The state as `cqrs state` prints it: sealed fields as ciphertext, the password hash left out.
boost::json::object to_json(const user_state& state);

}  // namespace cqrs::commands::user
