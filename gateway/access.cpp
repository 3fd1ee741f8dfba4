#include "gateway/access.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

namespace cqrs::gateway {

bool principal::has_role(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

access_policy::access_policy(kind k, std::string owner_parameter, std::vector<std::string> roles)
    : kind_(k), owner_parameter_(std::move(owner_parameter)), roles_(std::move(roles)) {}

access_policy access_policy::anyone() { return {kind::anyone, {}, {}}; }

access_policy access_policy::authenticated() { return {kind::authenticated, {}, {}}; }

access_policy access_policy::any_of(std::vector<std::string> roles) { return {kind::roles, {}, std::move(roles)}; }

access_policy access_policy::owner_or_any_of(std::string owner_parameter, std::vector<std::string> roles) {
  return {kind::owner_or_roles, std::move(owner_parameter), std::move(roles)};
}

namespace {

std::string needs_roles(const std::vector<std::string>& roles) {
  if (roles.size() == 1) return fmt::format("this route needs the role {}", roles.front());
  return fmt::format("this route needs one of the roles {}", fmt::join(roles, ", "));
}

bool holds_any(const principal& caller, const std::vector<std::string>& roles) {
  return std::any_of(roles.begin(), roles.end(), [&](const std::string& role) { return caller.has_role(role); });
}

}  // namespace

std::optional<std::string> access_policy::refusal(const principal& caller,
                                                  const std::map<std::string, std::string>& params) const {
  switch (kind_) {
    case kind::anyone:
    case kind::authenticated:
      return std::nullopt;
    case kind::roles:
      if (holds_any(caller, roles_)) return std::nullopt;
      return needs_roles(roles_);
    case kind::owner_or_roles: {
      const auto owner = params.find(owner_parameter_);
      if (owner != params.end() && owner->second == caller.subject) return std::nullopt;
      if (holds_any(caller, roles_)) return std::nullopt;
      return roles_.empty() ? std::string("only the owner may call this route")
                            : fmt::format("only the owner or the roles {} may call this route", fmt::join(roles_, ", "));
    }
  }
  std::abort();  // not an enumerator: memory corruption
}

}  // namespace cqrs::gateway
