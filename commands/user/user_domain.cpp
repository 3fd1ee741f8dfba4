#include "commands/user/user_domain.hpp"

#include <stdexcept>

#include <boost/json/array.hpp>

#include "commands/user/user_aggregate.hpp"

namespace cqrs::commands::user {

void register_aggregates(aggregate_registry& registry) { registry.add<user_aggregate>(to_json); }

std::string_view to_string(user_status status) {
  switch (status) {
    case user_status::unregistered: return "unregistered";
    case user_status::active: return "active";
    case user_status::deactivated: return "deactivated";
    case user_status::forgotten: return "forgotten";
  }
  throw std::invalid_argument("not a user_status value");
}

boost::json::object to_json(const user_state& state) {
  boost::json::array roles;
  for (const auto& role : state.roles) roles.emplace_back(role);
  return {{"status", to_string(state.status)},
          {"email", state.email.value()},
          {"email_index", state.email_index.value()},
          {"name", state.name.value()},
          {"phone", state.phone.value()},
          {"postal_address", state.postal_address.value()},
          {"password_set", !state.password.value().empty()},
          {"roles", std::move(roles)}};
}

}  // namespace cqrs::commands::user
