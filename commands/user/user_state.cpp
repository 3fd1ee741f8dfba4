#include "commands/user/user_state.hpp"

#include <variant>

namespace cqrs::commands::user {

namespace {

using namespace cqrs::schemas;

void apply(user_state& s, const user_registered& e) {
  s.status = user_status::active;
  s.email = e.email;
  s.email_index = e.email_index;
  s.password = e.password;
  s.name = e.name;
  s.phone = e.phone;
  s.postal_address = e.postal_address;
  s.roles.clear();
  for (const auto& role : e.roles) s.roles.insert(role.value());
}

void apply(user_state& s, const user_profile_updated& e) {
  s.name = e.name;
  s.phone = e.phone;
  s.postal_address = e.postal_address;
}

void apply(user_state& s, const user_email_changed& e) {
  s.email = e.email;
  s.email_index = e.email_index;
}

void apply(user_state& s, const user_password_changed& e) { s.password = e.password; }
void apply(user_state& s, const user_role_granted& e) { s.roles.insert(e.role.value()); }
void apply(user_state& s, const user_role_revoked& e) { s.roles.erase(e.role.value()); }
void apply(user_state& s, const user_deactivated&) { s.status = user_status::deactivated; }
void apply(user_state& s, const user_reactivated&) { s.status = user_status::active; }

// Only the fact remains: the sealed fields are unreadable anyway once the key is gone.
void apply(user_state& s, const user_forgotten&) {
  s = user_state{};
  s.status = user_status::forgotten;
}

}  // namespace

user_state evolve(user_state state, const schemas::user_event& event) {
  std::visit([&state](const auto& e) { apply(state, e); }, event);
  return state;
}

}  // namespace cqrs::commands::user
