#pragma once

// Who calls (a principal from a verified token) and who may call a route (an access policy).
// A route declares its policy; the router checks it after authentication and before the handler:
// 401 when a token is needed and missing, 403 when the caller lacks the role (or, for an
// owner-or-roles policy, is neither the owner nor holds one of the roles).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cqrs::gateway {

// Who calls, from a verified token.
struct principal {
  std::string subject;
  std::vector<std::string> roles;
  bool has_role(std::string_view role) const;
};

class access_policy {
 public:
  // Public: a token is not needed (but a bad one is still refused).
  static access_policy anyone();
  // Any valid token.
  static access_policy authenticated();
  // A valid token with at least one of `roles`.
  static access_policy any_of(std::vector<std::string> roles);
  // A valid token whose subject is the path parameter `owner_parameter` (the resource's owner),
  // or that holds one of `roles`.
  static access_policy owner_or_any_of(std::string owner_parameter, std::vector<std::string> roles);

  bool needs_token() const { return kind_ != kind::anyone; }

  // Why `caller` may not call a route with these path parameters (the 403's detail), or nothing
  // when it may. The caller is present: a missing token is refused before this.
  std::optional<std::string> refusal(const principal& caller, const std::map<std::string, std::string>& params) const;

 private:
  enum class kind { anyone, authenticated, roles, owner_or_roles };
  access_policy(kind k, std::string owner_parameter, std::vector<std::string> roles);

  kind kind_;
  std::string owner_parameter_;
  std::vector<std::string> roles_;
};

}  // namespace cqrs::gateway
