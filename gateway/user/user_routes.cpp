#include "gateway/user/user_routes.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "commands/user/user_lookup.hpp"
#include "commands/user/user_rules.hpp"
#include "core/ids.hpp"
#include "core/security/email.hpp"
#include "core/security/password.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"

namespace cqrs::gateway::user {

namespace {

namespace json = boost::json;
namespace security = core::security;
using commands::user::user_state;
using commands::user::user_status;

constexpr std::array<std::string_view, 3> known_roles = {"customer", "support", "admin"};
// Bounds of the clear-text fields (the aggregate sees only their sealed, longer forms).
constexpr std::size_t max_name_bytes = 200;
constexpr std::size_t max_phone_bytes = 50;
constexpr std::size_t max_address_bytes = 500;

std::string stream_text(const std::string& id) { return "user-" + id; }

// ---- sealing and opening -----------------------------------------------------------------------

// A field's plaintext, sealed for the user; an empty text stays empty (an optional field left out).
schemas::sealed_text seal_text(user_services& s, const std::string& id, std::string_view field, const std::string& text) {
  if (text.empty()) return schemas::sealed_text{};
  const auto stream = stream_text(id);
  auto sealed = s.vault->seal(id, {stream, field}, text);
  if (!sealed) throw std::runtime_error(fmt::format("cannot seal the user's {}: {}", field, sealed.error().detail));
  return schemas::sealed_text(std::move(sealed).value());
}

std::string open_text(user_services& s, const std::string& id, std::string_view field, const schemas::sealed_text& sealed) {
  if (sealed.value().empty()) return {};
  const auto stream = stream_text(id);
  const auto value = s.vault->open(id, {stream, field}, sealed.value());
  if (value.which() == security::pii_value::state::unreadable) return {};
  return std::string(value.shown());
}

// ---- reading users -----------------------------------------------------------------------------

std::string created_at(worker_context& workers, const std::string& id) {
  const auto stream = stream_of(user_binding::aggregate::category, id);
  return stream ? commands::user::user_created_at(workers.store(), *stream) : std::string();
}

json::value optional_json(const std::string& text) { return text.empty() ? json::value(nullptr) : json::value(text); }

http_response user_response(user_services& s, worker_context& workers, const std::string& id, const user_state& u,
                            std::int64_t version) {
  json::array roles;
  for (const auto& role : u.roles) roles.emplace_back(role);
  const json::object body{{"id", id},
                          {"email", open_text(s, id, "email", u.email)},
                          {"name", open_text(s, id, "name", u.name)},
                          {"phone", optional_json(open_text(s, id, "phone", u.phone))},
                          {"address", optional_json(open_text(s, id, "address", u.postal_address))},
                          {"roles", std::move(roles)},
                          {"status", is_active(u) ? "active" : "deactivated"},
                          {"created_at", created_at(workers, id)},
                          {"version", version}};
  auto response = json_response(200, body);
  response.set_header("ETag", fmt::format("\"{}\"", version));
  response.set_header("Cache-Control", "no-store");
  return response;
}

http_response no_such_user() { return problem_response(errc::resource_not_found, "no such user"); }

bool exists(const user_state& u) { return u.status == user_status::active || u.status == user_status::deactivated; }

step read_user_step(services_ptr s, std::string id) {
  return offload{pool_kind::postgres, [s, id](worker_context& workers) -> step {
                   const auto loaded = load_user(workers, id);
                   if (!exists(loaded.state)) return no_such_user();
                   return user_response(*s, workers, id, loaded.state, loaded.version.value());
                 }};
}

// ---- commands ----------------------------------------------------------------------------------

// The command's envelope for user `id`, from the request's headers (bad ones into `errors`).
std::optional<prepared_user> envelope_for(request_context& ctx, const std::string& id, std::vector<field_error>& errors,
                                          bool creates = false) {
  const auto headers = read_command_headers(ctx.request, errors);
  auto stream = stream_of(user_binding::aggregate::category, id);
  if (!stream) {
    errors.push_back({"id", std::string(invalid_id_message)});
    return std::nullopt;
  }
  commands::command_context context;
  if (ctx.caller) {
    context = command_context_for(ctx, headers);
  } else {
    // Self-registration: the new user is the actor.
    context.command_id = ctx.request_id;
    context.correlation_id = headers.correlation_id;
    context.actor = stream_text(id);
  }
  return prepared_user{id, {std::move(*stream), schemas::user_command{}, std::move(context)}, creates, {}};
}

// Runs the prepared command on this pool thread; the answer and whether it was accepted.
std::pair<http_response, bool> run_command(worker_context& workers, prepared_user& command,
                                           schemas::user_command c) {
  command.envelope.command = std::move(c);
  auto next = gateway::execute<user_binding>(workers, command);
  auto response = std::get<http_response>(std::move(next));
  const bool accepted = response.status < 300;
  return {std::move(response), accepted};
}

// The caller's own routes target the caller.
std::string caller_id(const request_context& ctx) { return ctx.caller ? ctx.caller->subject : std::string(); }

std::optional<std::string> check_text(std::vector<field_error>& errors, std::string_view field, const std::string& text,
                                      std::size_t max_bytes, bool required) {
  if (required && text.empty()) errors.push_back({std::string(field), "must not be empty"});
  if (text.size() > max_bytes) errors.push_back({std::string(field), fmt::format("at most {} bytes", max_bytes)});
  if (!commands::user::rules::is_valid_utf8(text)) errors.push_back({std::string(field), "must be valid UTF-8"});
  return text;
}

struct profile_text {
  std::string name, phone, address;
};

profile_text read_profile(json_fields& body, std::vector<field_error>& errors) {
  profile_text p{body.text("name"), body.optional_text("phone").value_or(""), body.optional_text("address").value_or("")};
  check_text(errors, "name", p.name, max_name_bytes, true);
  check_text(errors, "phone", p.phone, max_phone_bytes, false);
  check_text(errors, "address", p.address, max_address_bytes, false);
  return p;
}

// The email's normal form, or nothing (and an error naming `field`).
std::optional<std::string> read_email(const std::string& email, std::string_view field, std::vector<field_error>& errors) {
  auto normal = security::normalise_email(email);
  if (!normal) {
    errors.push_back({std::string(field), normal.error().detail});
    return std::nullopt;
  }
  return std::move(normal).value();
}

// ---- POST /v1/users ----------------------------------------------------------------------------

step register_user(const services_ptr& s, request_context& ctx) {
  std::vector<field_error> errors;
  std::string email, password;
  profile_text profile;
  if (auto refused = read_body(ctx, errors, [&](json_fields& fields) {
        email = fields.text("email");
        password = fields.text("password");
        profile = read_profile(fields, errors);
      })) {
    return std::move(*refused);
  }
  const auto normal = read_email(email, "email", errors);
  if (normal) {
    if (auto weak = security::check_new_password(password, *normal)) errors.push_back({"password", weak->detail});
  }
  auto command = envelope_for(ctx, core::event_id::generate().to_string(), errors, true);
  if (!errors.empty()) return invalid(std::move(errors));
  auto index = s->email_index(*normal);
  return with_hash(s, std::move(password), [s, command = std::move(*command), index, email = email,
                                             profile = std::move(profile)](std::string hash) mutable -> step {
    return offload{pool_kind::postgres, [s, command, index, email, profile, hash](worker_context& workers) mutable -> step {
                     const auto& id = command.id;
                     schemas::register_user c{seal_text(*s, id, "email", email), schemas::blind_index(index),
                                              schemas::password_hash(hash), seal_text(*s, id, "name", profile.name),
                                              seal_text(*s, id, "phone", profile.phone),
                                              seal_text(*s, id, "address", profile.address)};
                     return run_command(workers, command, std::move(c)).first;
                   }};
  });
}

// ---- the caller's own profile, email and password --------------------------------------------

step update_profile(const services_ptr& s, request_context& ctx, std::string id) {
  std::vector<field_error> errors;
  profile_text profile;
  if (auto refused = read_body(ctx, errors, [&](json_fields& fields) { profile = read_profile(fields, errors); })) {
    return std::move(*refused);
  }
  auto command = envelope_for(ctx, id, errors);
  if (!errors.empty()) return invalid(std::move(errors));
  return offload{pool_kind::postgres, [s, command = std::move(*command), profile](worker_context& workers) mutable -> step {
                   const auto& id = command.id;
                   schemas::update_user_profile c{seal_text(*s, id, "name", profile.name), seal_text(*s, id, "phone", profile.phone),
                                                  seal_text(*s, id, "address", profile.address)};
                   return run_command(workers, command, std::move(c)).first;
                 }};
}

step change_email(const services_ptr& s, request_context& ctx) {
  std::vector<field_error> errors;
  std::string email;
  if (auto refused = read_body(ctx, errors, [&](json_fields& fields) { email = fields.text("email"); })) {
    return std::move(*refused);
  }
  const auto normal = read_email(email, "email", errors);
  auto command = envelope_for(ctx, caller_id(ctx), errors);
  if (!errors.empty()) return invalid(std::move(errors));
  return offload{pool_kind::postgres, [s, command = std::move(*command), email, index = s->email_index(*normal)](
                                          worker_context& workers) mutable -> step {
                   schemas::change_user_email c{seal_text(*s, command.id, "email", email), schemas::blind_index(index)};
                   return run_command(workers, command, std::move(c)).first;
                 }};
}

step change_password(const services_ptr& s, request_context& ctx) {
  std::vector<field_error> errors;
  std::string current, next;
  if (auto refused = read_body(ctx, errors, [&](json_fields& fields) {
        current = fields.text("current_password");
        next = fields.text("new_password");
      })) {
    return std::move(*refused);
  }
  auto command = envelope_for(ctx, caller_id(ctx), errors);
  if (!errors.empty()) return invalid(std::move(errors));
  // The stored hash and the address (the new password may not be it), read on the pool.
  return offload{
      pool_kind::postgres,
      [s, command = std::move(*command), current, next](worker_context& workers) mutable -> step {
        const auto loaded = load_user(workers, command.id);
        if (!exists(loaded.state)) return no_such_user();
        const auto email = security::normalise_email(open_text(*s, command.id, "email", loaded.state.email));
        if (auto weak = security::check_new_password(next, email ? email.value() : std::string())) {
          return invalid({{"new_password", weak->detail}});
        }
        return with_verify(s, loaded.state.password.value(), current,
                           [s, command, next](security::verify_result checked) mutable -> step {
                             if (!checked.match) {
                               return problem_response(errc::validation_failed, "the current password is wrong",
                                                       {{"current_password", "does not match"}});
                             }
                             return with_hash(s, next, [command](std::string hash) mutable -> step {
                               return offload{pool_kind::postgres, [command, hash](worker_context& workers) mutable -> step {
                                                return run_command(workers, command,
                                                                   schemas::change_user_password{schemas::password_hash(hash)})
                                                    .first;
                                              }};
                             });
                           });
      }};
}

// ---- rights: forget, deactivate, reactivate, roles -------------------------------------------

// After a command that changes what the user may do. Every gateway has heard of it already: the
// command's transaction recorded the user's rights (commands/user's append effects). What is left
// is this side's cleanup: the data key of a forgotten user, the refresh tokens of an inactive one
// (refresh refuses an inactive user anyway, so a crash before this loses nothing).
http_response after_rights_change(user_services& s, worker_context& workers, const std::string& id,
                                  std::pair<http_response, bool> done, bool forgotten) {
  if (!done.second) return std::move(done.first);
  if (forgotten) {
    s.vault->forget(id);  // after the event: it says why the fields read as erased
  }
  const auto loaded = load_user(workers, id);
  if (!is_active(loaded.state)) s.refresh.with([&](security::pg_refresh_tokens& t) { return t.revoke_subject(id); });
  return std::move(done.first);
}

step forget(const services_ptr& s, request_context& ctx, std::string id) {
  std::vector<field_error> errors;
  auto command = envelope_for(ctx, id, errors);
  if (!errors.empty()) return invalid(std::move(errors));
  return offload{pool_kind::postgres, [s, command = std::move(*command)](worker_context& workers) mutable -> step {
                   auto done = run_command(workers, command, schemas::forget_user{"erasure requested"});
                   return after_rights_change(*s, workers, command.id, std::move(done), true);
                 }};
}

step set_status(const services_ptr& s, request_context& ctx, bool active) {
  std::vector<field_error> errors;
  auto command = envelope_for(ctx, path_param(ctx, "id"), errors);
  if (!errors.empty()) return invalid(std::move(errors));
  return offload{pool_kind::postgres, [s, command = std::move(*command), active](worker_context& workers) mutable -> step {
                   schemas::user_command c = schemas::deactivate_user{};
                   if (active) c = schemas::reactivate_user{};
                   auto done = run_command(workers, command, std::move(c));
                   return after_rights_change(*s, workers, command.id, std::move(done), false);
                 }};
}

// {"roles": [...]}: each a known role, at least one.
std::optional<std::set<std::string>> read_roles(const json::object& body, std::vector<field_error>& errors) {
  for (const auto& member : body) {
    if (member.key() != "roles") errors.push_back({std::string(member.key()), "is not a member of this request"});
  }
  const auto* roles = body.if_contains("roles");
  if (roles == nullptr || !roles->is_array()) {
    errors.push_back({"roles", "must be an array of roles"});
    return std::nullopt;
  }
  std::set<std::string> wanted;
  for (const auto& role : roles->get_array()) {
    if (!role.is_string() ||
        std::find(known_roles.begin(), known_roles.end(), std::string_view(role.get_string())) == known_roles.end()) {
      errors.push_back({"roles", "each role must be customer, support or admin"});
      return std::nullopt;
    }
    wanted.emplace(std::string(role.get_string()));
  }
  return wanted;
}

step set_roles(const services_ptr& s, request_context& ctx) {
  auto body = body_object(ctx.request);
  if (auto* refused = std::get_if<http_response>(&body)) return std::move(*refused);
  std::vector<field_error> errors;
  auto wanted = read_roles(std::get<json::object>(body), errors);
  auto command = envelope_for(ctx, path_param(ctx, "id"), errors);
  if (!errors.empty()) return invalid(std::move(errors));
  // One command per role revoked or granted, revocations first: the user never holds more rights
  // than before or after, and a refused revocation (the last admin) leaves everything as it was.
  // A refusal stops there; what was done before it stays done.
  return offload{pool_kind::postgres, [s, command = std::move(*command), wanted = std::move(*wanted)](
                                          worker_context& workers) mutable -> step {
                   const auto loaded = load_user(workers, command.id);
                   if (!exists(loaded.state)) return no_such_user();
                   command.envelope.context.idempotency_key.reset();
                   std::vector<schemas::user_command> steps;
                   for (const auto& role : loaded.state.roles) {
                     if (!wanted.contains(role)) steps.emplace_back(schemas::revoke_user_role{schemas::user_role(role)});
                   }
                   for (const auto& role : wanted) {
                     if (!loaded.state.has_role(role)) steps.emplace_back(schemas::grant_user_role{schemas::user_role(role)});
                   }
                   bool changed = false;
                   http_response last;  // the last accepted command's answer: its consistency token
                   for (auto& c : steps) {
                     auto done = run_command(workers, command, std::move(c));
                     command.envelope.context.if_match.reset();  // only the first command carries it
                     if (!done.second) {
                       if (changed) after_rights_change(*s, workers, command.id, {http_response{}, true}, false);
                       copy_consistency_token(last, done.first);
                       return std::move(done.first);
                     }
                     changed = true;
                     last = std::move(done.first);
                   }
                   if (changed) after_rights_change(*s, workers, command.id, {http_response{}, true}, false);
                   const auto now = load_user(workers, command.id);
                   auto response = user_response(*s, workers, command.id, now.state, now.version.value());
                   copy_consistency_token(last, response);
                   return response;
                 }};
}

// ---- POST /v1/users/lookup ---------------------------------------------------------------------

step lookup(const services_ptr& s, request_context& ctx) {
  std::vector<field_error> errors;
  std::string email;
  if (auto refused = read_body(ctx, errors, [&](json_fields& fields) { email = fields.text("email"); })) {
    return std::move(*refused);
  }
  const auto normal = read_email(email, "email", errors);
  if (!errors.empty()) return invalid(std::move(errors));
  return offload{pool_kind::postgres, [s, index = s->email_index(*normal)](worker_context& workers) -> step {
                   const auto id = user_by_email_index(workers, index);
                   if (!id) return no_such_user();
                   const auto loaded = load_user(workers, *id);
                   if (!exists(loaded.state)) return no_such_user();
                   return user_response(*s, workers, *id, loaded.state, loaded.version.value());
                 }};
}

}  // namespace

// ---- shared ------------------------------------------------------------------------------------

http_response invalid(std::vector<field_error> errors) {
  return problem_response(errc::validation_failed, "the request has invalid fields", std::move(errors));
}

step with_hash(const services_ptr& s, std::string password, std::function<step(std::string)> then) {
  return external_call{[s, password = std::move(password), then = std::move(then)](
                           std::function<void(external_call::continuation)> resume) mutable {
    const auto admitted = s->passwords.hash(std::move(password), [resume, then](security::hash_outcome done) {
      resume([done = std::move(done), then]() -> step {
        if (done.failure) std::rethrow_exception(done.failure);
        return then(done.hash);
      });
    });
    if (admitted == security::admission::refused) {
      resume([s]() -> step {
        return retry_later(errc::overloaded, "the password service is busy",
                           static_cast<int>(s->passwords.retry_after_hint().count()));
      });
    }
  }};
}

step with_verify(const services_ptr& s, std::string stored, std::string password,
                 std::function<step(security::verify_result)> then) {
  return external_call{[s, stored = std::move(stored), password = std::move(password), then = std::move(then)](
                           std::function<void(external_call::continuation)> resume) mutable {
    const auto admitted =
        s->passwords.verify(std::move(stored), std::move(password), [resume, then](security::verify_outcome done) {
          resume([done = std::move(done), then]() -> step {
            if (done.failure) std::rethrow_exception(done.failure);
            return then(done.result);
          });
        });
    if (admitted == security::admission::refused) {
      resume([s]() -> step {
        return retry_later(errc::overloaded, "the password service is busy",
                           static_cast<int>(s->passwords.retry_after_hint().count()));
      });
    }
  }};
}

commands::loaded_aggregate<user_state> load_user(worker_context& workers, const std::string& id) {
  const auto stream = stream_of(user_binding::aggregate::category, id);
  if (!stream) return {};
  return workers.pipeline<user_binding::aggregate>().load(*stream);
}

std::optional<std::string> user_by_email_index(worker_context& workers, const std::string& index) {
  const auto stream = commands::user::user_with_email(workers.store(), schemas::blind_index(index));
  if (!stream) return std::nullopt;
  const auto& text = stream->str();
  return text.substr(text.find('-') + 1);
}

bool is_active(const user_state& state) { return state.status == user_status::active; }

std::vector<std::string> roles_of(const user_state& state) { return {state.roles.begin(), state.roles.end()}; }

void add_user_routes(router& r, const services_ptr& s) {
  const auto anyone = access_policy::anyone();
  const auto user = access_policy::authenticated();
  const auto staff = access_policy::any_of({"support", "admin"});
  const auto admin = access_policy::any_of({"admin"});
  auto me = [](request_context& ctx) { return caller_id(ctx); };
  r.add({"POST", "/v1/users", anyone, [s](request_context& ctx) { return register_user(s, ctx); }, true});
  r.add({"GET", "/v1/users/me", user, [s, me](request_context& ctx) { return read_user_step(s, me(ctx)); }});
  r.add({"PATCH", "/v1/users/me", user, [s, me](request_context& ctx) { return update_profile(s, ctx, me(ctx)); }, true});
  r.add({"PUT", "/v1/users/me/password", user, [s](request_context& ctx) { return change_password(s, ctx); }, true});
  r.add({"PUT", "/v1/users/me/email", user, [s](request_context& ctx) { return change_email(s, ctx); }, true});
  r.add({"DELETE", "/v1/users/me", user, [s, me](request_context& ctx) { return forget(s, ctx, me(ctx)); }});
  r.add({"POST", "/v1/users/lookup", staff, [s](request_context& ctx) { return lookup(s, ctx); }, true});
  r.add({"GET", "/v1/users/{id}", staff,
         [s](request_context& ctx) { return read_user_step(s, path_param(ctx, "id")); }});
  r.add({"PUT", "/v1/users/{id}/roles", admin, [s](request_context& ctx) { return set_roles(s, ctx); }, true});
  r.add({"POST", "/v1/users/{id}/deactivate", admin, [s](request_context& ctx) { return set_status(s, ctx, false); }});
  r.add({"POST", "/v1/users/{id}/reactivate", admin, [s](request_context& ctx) { return set_status(s, ctx, true); }});
  r.add({"DELETE", "/v1/users/{id}", admin,
         [s](request_context& ctx) { return forget(s, ctx, path_param(ctx, "id")); }});
}

}  // namespace cqrs::gateway::user
