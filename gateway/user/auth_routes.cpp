// Sign-in: login, refresh, logout (user_routes.hpp lists the routes).
//
// A login answers the same 401 for an unknown email, a wrong password and a deactivated user, after
// the same work (an unknown email verifies against the dummy hash), so neither the answer nor its
// timing tells which accounts exist. Failed logins are throttled per normalised email whether or
// not an account has it, across every gateway (shared_login_throttle): 429 with Retry-After.

#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/security/email.hpp"
#include "core/security/refresh_token.hpp"
#include "gateway/router.hpp"
#include "gateway/user/user_routes.hpp"
#include "gateway/worker_context.hpp"

namespace cqrs::gateway::user {

namespace {

namespace json = boost::json;
namespace security = core::security;
using commands::user::user_state;

http_response bad_credentials() {
  auto p = make_problem(errc::unauthorized, "the email or the password is wrong");
  return to_response(p);
}

http_response bad_refresh_token() {
  return problem_response(errc::unauthorized, "the refresh token is not valid: sign in again");
}

// The token pair for a signed-in user; the refresh token of `issued`'s family.
http_response tokens_response(const user_services& s, const std::string& id, const user_state& state,
                              const std::string& refresh_token) {
  const auto access = s.signer.sign(token_claims{id, roles_of(state), s.access_ttl, true});
  const json::object body{{"access_token", access},
                          {"token_type", "Bearer"},
                          {"expires_in", s.access_ttl.count()},
                          {"refresh_token", refresh_token}};
  auto response = json_response(200, body);
  response.set_header("Cache-Control", "no-store");
  return response;
}

step issue_tokens(const services_ptr& s, std::string id) {
  return offload{pool_kind::postgres, [s, id](worker_context& workers) -> step {
                   const auto loaded = load_user(workers, id);
                   if (!is_active(loaded.state)) return bad_credentials();
                   const auto issued = s->refresh.with(
                       [&](security::pg_refresh_tokens& t) { return t.issue(id, s->refresh_ttl); });
                   return tokens_response(*s, id, loaded.state, issued.token);
                 }};
}

// A right password under old argon2 parameters: store the new hash (as the user's own command),
// then sign in.
step rehash_then_issue(const services_ptr& s, std::string id, std::string password, std::string request_id) {
  return with_hash(s, std::move(password), [s, id, request_id](std::string hash) -> step {
    return offload{pool_kind::postgres, [s, id, request_id, hash](worker_context& workers) -> step {
                     commands::user::user_envelope envelope{
                         *stream_of(user_binding::aggregate::category, id),
                         schemas::change_user_password{schemas::password_hash(hash)},
                         commands::command_context{request_id, {}, {}, "user-" + id, std::nullopt, std::nullopt}};
                     (void)workers.pipeline<user_binding::aggregate>().handle(envelope);
                     return issue_tokens(s, id);
                   }};
  });
}

// After the check: the failure counted (shared by every gateway), or cleared and the user signed in.
step after_verify(const services_ptr& s, std::string index, std::string user_id, bool matched, bool needs_rehash,
                  std::string password, std::string request_id) {
  if (user_id.empty() || !matched) {
    return offload{pool_kind::redis, [s, index](worker_context& workers) -> step {
                     s->throttle.failed(workers, index);
                     return bad_credentials();
                   }};
  }
  return offload{pool_kind::redis, [s, index, user_id, needs_rehash, password = std::move(password),
                                    request_id](worker_context& workers) mutable -> step {
                   s->throttle.succeeded(workers, index);
                   if (needs_rehash) return rehash_then_issue(s, user_id, std::move(password), request_id);
                   return issue_tokens(s, user_id);
                 }};
}

// The stored hash (none: unknown, or not active) verified on the password pool.
step verify_login(const services_ptr& s, std::string index, bool known, std::string password, std::string request_id) {
  return offload{
      pool_kind::postgres,
      [s, index, known, password = std::move(password), request_id](worker_context& workers) mutable -> step {
        std::optional<std::string> id = known ? user_by_email_index(workers, index) : std::nullopt;
        std::string stored;
        if (id) {
          const auto loaded = load_user(workers, *id);
          if (is_active(loaded.state)) stored = loaded.state.password.value();
        }
        auto again = password;
        return with_verify(s, stored, std::move(password),
                           [s, index, user_id = stored.empty() ? std::string() : *id, again = std::move(again),
                            request_id](security::verify_result checked) mutable -> step {
                             return after_verify(s, index, user_id, checked.match, checked.needs_rehash,
                                                 std::move(again), request_id);
                           });
      }};
}

step login(const services_ptr& s, request_context& ctx) {
  std::vector<field_error> errors;
  std::string email, password;
  if (auto refused = read_body(ctx, errors, [&](json_fields& fields) {
        email = fields.text("email");
        password = fields.text("password");
      })) {
    return std::move(*refused);
  }
  if (!errors.empty()) return invalid(std::move(errors));
  // An implausible address has no account: it is answered like an unknown one, after the same work.
  const auto normal = security::normalise_email(email);
  auto index = s->email_index(normal ? normal.value() : email);
  // The throttle is shared by every gateway (Redis), so it is read on the Redis pool.
  return offload{pool_kind::redis, [s, index = std::move(index), known = normal.ok(), password = std::move(password),
                                    request_id = ctx.request_id](worker_context& workers) mutable -> step {
                   if (const auto wait = s->throttle.wait(workers, index)) {
                     return retry_later(errc::rate_limited, "too many failed logins for this email: wait",
                                        static_cast<int>(wait->count()));
                   }
                   return verify_login(s, std::move(index), known, std::move(password), std::move(request_id));
                 }};
}

std::variant<std::string, http_response> refresh_token_of(request_context& ctx) {
  std::vector<field_error> errors;
  std::string token;
  if (auto refused = read_body(ctx, errors, [&](json_fields& fields) { token = fields.text("refresh_token"); })) {
    return std::move(*refused);
  }
  if (!errors.empty()) return invalid(std::move(errors));
  return token;
}

step refresh(const services_ptr& s, request_context& ctx) {
  auto token = refresh_token_of(ctx);
  if (auto* refused = std::get_if<http_response>(&token)) return std::move(*refused);
  return offload{pool_kind::postgres, [s, token = std::get<std::string>(std::move(token))](worker_context& workers) -> step {
                   const auto rotated = s->refresh.with(
                       [&](security::pg_refresh_tokens& t) { return t.rotate(token, s->refresh_ttl); });
                   const auto* issued = std::get_if<security::issued_token>(&rotated);
                   if (issued == nullptr) return bad_refresh_token();
                   const auto loaded = load_user(workers, issued->subject);
                   if (!is_active(loaded.state)) {
                     s->refresh.with([&](security::pg_refresh_tokens& t) { return t.revoke_family(issued->family); });
                     return bad_refresh_token();
                   }
                   return tokens_response(*s, issued->subject, loaded.state, issued->token);
                 }};
}

// Ends the token's sign-in (its family). A token that is unknown, or already dead, answers 204
// too; presented with another user's bearer token it is refused and nothing changes.
step logout(const services_ptr& s, request_context& ctx) {
  auto token = refresh_token_of(ctx);
  if (auto* refused = std::get_if<http_response>(&token)) return std::move(*refused);
  auto hash = security::refresh_token_hash(std::get<std::string>(token));
  if (!hash) return http_response{204, {}, {}};
  std::optional<std::string> caller;
  if (ctx.caller) caller = ctx.caller->subject;
  return offload{pool_kind::postgres, [s, hash = std::move(hash).value(), caller](worker_context&) -> step {
                   const auto family = s->refresh.with([&](security::pg_refresh_tokens& t) { return t.family_of(hash); });
                   if (!family) return http_response{204, {}, {}};
                   if (caller && *caller != family->subject) {
                     return problem_response(errc::forbidden, "the refresh token belongs to another user");
                   }
                   s->refresh.with([&](security::pg_refresh_tokens& t) { return t.revoke_family(family->family); });
                   return http_response{204, {}, {}};
                 }};
}

}  // namespace

void add_auth_routes(router& r, const services_ptr& s) {
  const auto anyone = access_policy::anyone();
  r.add({"POST", "/v1/auth/login", anyone, [s](request_context& ctx) { return login(s, ctx); }, true});
  r.add({"POST", "/v1/auth/refresh", anyone, [s](request_context& ctx) { return refresh(s, ctx); }, true});
  r.add({"POST", "/v1/auth/logout", anyone, [s](request_context& ctx) { return logout(s, ctx); }, true});
}

}  // namespace cqrs::gateway::user
