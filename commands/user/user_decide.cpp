#include "commands/user/user_decide.hpp"

#include <initializer_list>
#include <optional>
#include <variant>
#include <vector>

#include "commands/user/user_rules.hpp"

namespace cqrs::commands::user {

namespace {

using namespace cqrs::schemas;

user_decision reject(errc code, std::string detail) { return user_decision::reject({code, std::move(detail)}); }
user_decision accept(user_event event) { return user_decision::accept({std::move(event)}); }
user_decision nothing_changes() { return user_decision::accept({}); }

// The first failed check, in the order given (so the reported code is deterministic).
std::optional<rejection> first_failure(std::initializer_list<std::optional<rejection>> checks) {
  for (const auto& check : checks) {
    if (check) return check;
  }
  return std::nullopt;
}

// Every command but register needs a registered user that was not forgotten.
std::optional<rejection> check_registered(const user_state& s) {
  switch (s.status) {
    case user_status::unregistered: return rejection{errc::user_not_found, "no such user"};
    case user_status::forgotten: return rejection{errc::user_forgotten, "the user was forgotten"};
    case user_status::active:
    case user_status::deactivated:
      return std::nullopt;
  }
  return rejection{errc::user_not_found, "no such user"};
}

// Role changes need an active user: the admins set holds active admins only, and a deactivated
// user's roles are restored as they were when reactivated.
std::optional<rejection> check_active(const user_state& s) {
  if (auto missing = check_registered(s)) return missing;
  if (s.status == user_status::active) return std::nullopt;
  return rejection{errc::user_deactivated, "the user is deactivated"};
}

std::vector<user_role> roles_of(const user_state& s) {
  std::vector<user_role> roles;
  for (const auto& role : s.roles) roles.emplace_back(role);
  return roles;
}

user_decision decide_one(const user_state& s, const register_user& c) {
  if (s.status == user_status::forgotten) return reject(errc::user_forgotten, "the user was forgotten");
  if (s.status != user_status::unregistered) return reject(errc::user_already_registered, "the user is registered");
  if (auto failed = first_failure({rules::check_email(c.email), rules::check_email_index(c.email_index),
                                   rules::check_password_hash(c.password), rules::check_name(c.name),
                                   rules::check_phone(c.phone), rules::check_postal_address(c.postal_address)})) {
    return user_decision::reject(*failed);
  }
  return accept(user_registered{c.email, c.email_index, c.password, c.name, c.phone, c.postal_address,
                                {user_role(std::string(user_roles::customer))}});
}

user_decision decide_one(const user_state& s, const update_user_profile& c) {
  if (auto failed = first_failure({check_registered(s), rules::check_name(c.name), rules::check_phone(c.phone),
                                   rules::check_postal_address(c.postal_address)})) {
    return user_decision::reject(*failed);
  }
  if (c.name == s.name && c.phone == s.phone && c.postal_address == s.postal_address) return nothing_changes();
  return accept(user_profile_updated{c.name, c.phone, c.postal_address});
}

// The same address (same blind index) sealed anew is still a change of ciphertext: stored, but no
// claim moves. Only a command identical to the state changes nothing.
user_decision decide_one(const user_state& s, const change_user_email& c) {
  if (auto failed = first_failure({check_registered(s), rules::check_email(c.email),
                                   rules::check_email_index(c.email_index)})) {
    return user_decision::reject(*failed);
  }
  if (c.email == s.email && c.email_index == s.email_index) return nothing_changes();
  return accept(user_email_changed{c.email, c.email_index});
}

user_decision decide_one(const user_state& s, const change_user_password& c) {
  if (auto failed = first_failure({check_registered(s), rules::check_password_hash(c.password)})) {
    return user_decision::reject(*failed);
  }
  if (c.password == s.password) return nothing_changes();
  return accept(user_password_changed{c.password});
}

user_decision decide_one(const user_state& s, const grant_user_role& c) {
  if (auto failed = first_failure({check_active(s), rules::check_role(c.role)})) return user_decision::reject(*failed);
  if (s.has_role(c.role.value())) return nothing_changes();
  return accept(user_role_granted{c.role});
}

user_decision decide_one(const user_state& s, const revoke_user_role& c) {
  if (auto failed = first_failure({check_active(s), rules::check_role(c.role)})) return user_decision::reject(*failed);
  if (!s.has_role(c.role.value())) return nothing_changes();
  return accept(user_role_revoked{c.role});
}

user_decision decide_one(const user_state& s, const deactivate_user& c) {
  if (auto failed = first_failure({check_registered(s), rules::check_reason(c.reason)})) {
    return user_decision::reject(*failed);
  }
  if (s.status == user_status::deactivated) return nothing_changes();
  return accept(user_deactivated{c.reason});
}

user_decision decide_one(const user_state& s, const reactivate_user& c) {
  if (auto failed = first_failure({check_registered(s), rules::check_reason(c.reason)})) {
    return user_decision::reject(*failed);
  }
  if (s.status == user_status::active) return nothing_changes();
  return accept(user_reactivated{c.reason, roles_of(s)});
}

user_decision decide_one(const user_state& s, const forget_user& c) {
  if (auto failed = first_failure({check_registered(s), rules::check_reason(c.reason)})) {
    return user_decision::reject(*failed);
  }
  return accept(user_forgotten{c.reason});
}

}  // namespace

user_decision decide(const user_state& state, const schemas::user_command& command) {
  return std::visit([&state](const auto& c) { return decide_one(state, c); }, command);
}

}  // namespace cqrs::commands::user
