#pragma once

// What the User aggregate knows when it decides. Built only by folding events (`evolve`). Personal
// fields are held sealed, as the events carry them; a forgotten user keeps none of them.

#include <set>
#include <string>

#include "schemas/contracts/user/user_events.hpp"
#include "schemas/contracts/user/user_values.hpp"

namespace cqrs::commands::user {

// Stable numbers: they are stored in snapshots.
enum class user_status { unregistered = 0, active = 1, deactivated = 2, forgotten = 3 };

struct user_state {
  user_status status = user_status::unregistered;
  schemas::sealed_text email;
  schemas::blind_index email_index;
  schemas::password_hash password;
  schemas::sealed_text name;
  schemas::sealed_text phone;
  schemas::sealed_text postal_address;
  std::set<std::string> roles;

  bool has_role(std::string_view role) const { return roles.contains(std::string(role)); }

  friend bool operator==(const user_state&, const user_state&) = default;
};

// Folds one event. Total: events are facts already checked by `decide`, so nothing is refused.
user_state evolve(user_state state, const schemas::user_event& event);

}  // namespace cqrs::commands::user
