// cqrs token: a bearer token signed with the gateway's own key and claims (CQRS_JWT_*), for
// operators and for trying the API against the dev stack:
//   curl -H "Authorization: Bearer $(tools/cqrs token --sub alice --role admin)" ...

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/gateway_config.hpp"
#include "gateway/jwt.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

constexpr std::int64_t one_year_seconds = 365LL * 24 * 3600;

// --role may be repeated (main.cpp joins repeats with commas) or given as "admin,ops".
std::vector<std::string> read_roles(const core::settings_source& source) {
  std::vector<std::string> roles;
  const auto joined = source.raw("CQRS_ROLE");
  if (!joined) return roles;
  std::string_view rest = *joined;
  while (true) {
    const auto comma = rest.find(',');
    const auto role = rest.substr(0, comma);
    if (role.empty()) throw core::config_error("CQRS_ROLE", "a role must not be empty");
    if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.emplace_back(role);
    if (comma == std::string_view::npos) return roles;
    rest.remove_prefix(comma + 1);
  }
}

gateway::token_claims read_claims(const core::settings_source& source) {
  gateway::token_claims claims;
  claims.subject = source.required_text("CQRS_SUB");
  claims.roles = read_roles(source);
  claims.ttl = std::chrono::seconds{source.integer("CQRS_TTL", claims.ttl.count(), 1, one_year_seconds)};
  return claims;
}

// The gateway's loader, so that the token carries exactly what the gateway will check.
gateway::auth_config read_auth(const core::settings_source& source) {
  auto auth = gateway::load_auth_config(source);
  if (auth.jwt_secret.empty()) throw core::config_error("CQRS_JWT_SECRET", "is required to sign a token");
  return auth;
}

int run_token(const core::settings_source& source) {
  const auto claims = read_claims(source);  // the caller's mistakes first, then the environment's
  const gateway::jwt_verifier signer(read_auth(source));
  std::cout << signer.sign(claims) << "\n";
  return 0;
}

// The command's own options, then the gateway's CQRS_JWT_* settings (its single list).
std::vector<core::setting_spec> token_settings() {
  std::vector<core::setting_spec> specs = {
      {"CQRS_SUB", "", "the token's subject (who calls), required", core::spec_kind::option},
      {"CQRS_ROLE", "", "a role to grant; repeat for more (--role admin --role ops)", core::spec_kind::option},
      {"CQRS_TTL", "3600", "lifetime in seconds (1-31536000)", core::spec_kind::option}};
  for (const auto& spec : gateway::gateway_settings()) {
    if (spec.env.starts_with("CQRS_JWT_")) specs.push_back(spec);
  }
  return specs;
}

}  // namespace

subcommand token_subcommand() {
  return {"token", "print a signed bearer token (HS256) for the gateway", token_settings(), run_token, {"CQRS_ROLE"}};
}

}  // namespace cqrs::tools::cli
