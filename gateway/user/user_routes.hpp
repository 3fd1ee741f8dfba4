#pragma once

// The User domain's routes (docs/http-api.md, "Users" and "Sign-in"):
//
//   POST   /v1/users                  anyone          {email, password, name, phone?, address?}  201
//   GET    /v1/users/me               a user          the caller, decrypted
//   PATCH  /v1/users/me               a user          {name, phone?, address?} (replaces the profile)
//   PUT    /v1/users/me/password      a user          {current_password, new_password}
//   PUT    /v1/users/me/email         a user          {email}
//   DELETE /v1/users/me               a user          forget me
//   GET    /v1/users/{id}             support, admin
//   POST   /v1/users/lookup           support, admin  {email}: exact match through the blind index
//   PUT    /v1/users/{id}/roles       admin           {roles: [...]}
//   POST   /v1/users/{id}/deactivate  admin
//   POST   /v1/users/{id}/reactivate  admin
//   DELETE /v1/users/{id}             admin           forget the user
//   POST   /v1/auth/login             anyone          {email, password}
//   POST   /v1/auth/refresh           anyone          {refresh_token}
//   POST   /v1/auth/logout            anyone          {refresh_token}                              204
//
// Personal fields are sealed (pii_vault, on the PostgreSQL pool: the key store is a database)
// before they enter a command; reads open them there too. Passwords are hashed and verified only
// on the password pool (an external_call step); a full pool answers 503 with Retry-After.
// Sign-in decisions read the write side: the email's claim (unique_claims) and the user's stream.
// Commands that change rights record them for every gateway in their own transaction (auth_epochs.hpp).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "commands/user/user_pipeline.hpp"
#include "gateway/command_routes.hpp"
#include "gateway/json_fields.hpp"
#include "gateway/user/user_errors.hpp"
#include "gateway/user/user_services.hpp"

namespace cqrs::gateway {

class router;

namespace user {

struct user_binding {
  using aggregate = commands::user::user_aggregate;
  static constexpr std::string_view noun = "user";
  static constexpr std::string_view collection = "/v1/users";
  static constexpr std::string_view id_purpose = "cqrs.user-id.v1";
  static error_mapping map_error(commands::user::errc code) { return gateway::map_error(code); }
  static std::string_view code_name(commands::user::errc code) { return commands::user::to_string(code); }
  static std::string_view field_of(commands::user::errc code) { return gateway::field_of(code); }
};

using services_ptr = std::shared_ptr<user_services>;
using prepared_user = prepared<user_binding>;

void add_user_routes(router& r, const services_ptr& services);
void add_auth_routes(router& r, const services_ptr& services);

// ---- shared by the routes ----------------------------------------------------------------------

// The request's JSON object, read member by member by `read(fields)`: a member it does not read is
// refused and every field error lands in `errors`. A body that is no JSON object: its refusal.
template <typename Read>
std::optional<http_response> read_body(request_context& ctx, std::vector<field_error>& errors, Read&& read) {
  auto body = body_object(ctx.request);
  if (auto* refused = std::get_if<http_response>(&body)) return std::move(*refused);
  json_fields fields(std::get<boost::json::object>(body), "", errors);
  read(fields);
  fields.reject_unread();
  return std::nullopt;
}

// 400 naming the invalid fields.
http_response invalid(std::vector<field_error> errors);

// Hashes `password` on the password pool, then `then(hash)` on the I/O thread.
step with_hash(const services_ptr& s, std::string password, std::function<step(std::string)> then);
// Verifies on the password pool (`stored` empty: the dummy hash), then `then(result)`.
step with_verify(const services_ptr& s, std::string stored, std::string password,
                 std::function<step(core::security::verify_result)> then);

// The user's stream as stored (version 0: none).
commands::loaded_aggregate<commands::user::user_state> load_user(worker_context& workers, const std::string& id);
// The id of the user holding the email's claim (the aggregate's hex index), if any.
std::optional<std::string> user_by_email_index(worker_context& workers, const std::string& index);
bool is_active(const commands::user::user_state& state);
std::vector<std::string> roles_of(const commands::user::user_state& state);

}  // namespace user
}  // namespace cqrs::gateway
