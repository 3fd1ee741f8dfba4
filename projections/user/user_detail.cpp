#include <algorithm>
#include <array>
#include <variant>

#include "projections/history.hpp"
#include "projections/redis_target.hpp"
#include "projections/user/user_projections.hpp"
#include "schemas/contracts/user/user_codec.hpp"

namespace cqrs::projections::user {

namespace detail {

std::string user_id_of(const core::stream_id& stream) {
  const auto& text = stream.str();
  return text.substr(text.find('-') + 1);
}

std::optional<schemas::user_event> decode_if_user(const core::recorded_event& event) {
  if (!schemas::is_user_event(event.type, event.schema_version)) return std::nullopt;
  try {
    return schemas::decode_user_event(event.type, event.schema_version, event.payload);
  } catch (const std::exception& e) {
    throw handler_error(event, event.type + " at " + event.stream.str() + " v" + std::to_string(event.version.value()) +
                                   ": " + e.what());
  }
}

}  // namespace detail

namespace {

using op_list = std::vector<redis_op>;

// The roles are a closed set, so each is a field of its own: a grant or a revoke is one HSET that
// needs no read of the current list.
constexpr std::array<std::string_view, 3> known_roles{schemas::user_roles::customer, schemas::user_roles::support,
                                                      schemas::user_roles::admin};

std::string role_field(std::string_view role) { return "role_" + std::string(role); }

std::vector<std::string> role_flags(const std::vector<schemas::user_role>& roles) {
  std::vector<std::string> args;
  for (const auto role : known_roles) {
    const bool held = std::ranges::any_of(roles, [role](const auto& r) { return r.value() == role; });
    args.push_back(role_field(role));
    args.emplace_back(held ? "1" : "0");
  }
  return args;
}

struct detail_ops {
  std::string key;
  const core::recorded_event& event;

  op_list operator()(const schemas::user_registered& e) const {
    std::vector<std::string> args{"email",  e.email.value(), "email_index",    e.email_index.value(),
                                  "name",   e.name.value(),  "phone",          e.phone.value(),
                                  "postal_address", e.postal_address.value(), "status", "active",
                                  "created_at", format_timestamp(event.recorded_at)};
    for (auto& flag : role_flags(e.roles)) args.push_back(std::move(flag));
    return {{"HSET", key, std::move(args)}};
  }
  op_list operator()(const schemas::user_profile_updated& e) const {
    return {{"HSET", key, {"name", e.name.value(), "phone", e.phone.value(), "postal_address", e.postal_address.value()}}};
  }
  op_list operator()(const schemas::user_email_changed& e) const {
    return {{"HSET", key, {"email", e.email.value(), "email_index", e.email_index.value()}}};
  }
  op_list operator()(const schemas::user_password_changed&) const { return {}; }
  op_list operator()(const schemas::user_role_granted& e) const { return {{"HSET", key, {role_field(e.role.value()), "1"}}}; }
  op_list operator()(const schemas::user_role_revoked& e) const { return {{"HSET", key, {role_field(e.role.value()), "0"}}}; }
  op_list operator()(const schemas::user_deactivated&) const { return {{"HSET", key, {"status", "deactivated"}}}; }
  op_list operator()(const schemas::user_reactivated& e) const {
    auto args = role_flags(e.roles);
    args.insert(args.begin(), {"status", "active"});
    return {{"HSET", key, std::move(args)}};
  }
  op_list operator()(const schemas::user_forgotten&) const { return {{"DEL", key, {}}}; }
};

// Reads the pointer and the model in one script: never a dropped or half-switched model.
constexpr const char* read_detail_script = R"lua(
local model = redis.call('GET', KEYS[1]) or ARGV[1]
return redis.call('HGETALL', model .. ':user:' .. ARGV[2])
)lua";

}  // namespace

user_detail_projection::user_detail_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::redis} {}

std::vector<redis_op> user_detail_projection::changes(const core::recorded_event& event) const {
  const auto decoded = detail::decode_if_user(event);
  if (!decoded) return {};
  const auto id = detail::user_id_of(event.stream);
  const std::string key = "user:" + id;
  auto ops = std::visit(detail_ops{key, event}, *decoded);
  // A forgotten user's hash is gone, and stays gone: nothing is written after the DEL.
  if (std::holds_alternative<schemas::user_forgotten>(*decoded)) return ops;
  ops.push_back({"HSET", key, {"id", id, "version", std::to_string(event.version.value())}});
  return ops;
}

user_detail_read user_detail_read_for(const std::string& user_id, const std::string& projection) {
  const user_detail_projection p("user", projection);
  return {read_detail_script, {redis_live_pointer_key(projection)}, {p.info().initial_model(), user_id}};
}

std::optional<user_fields> decode_user_detail(const redis_reply& reply) {
  if (reply.elements.empty()) return std::nullopt;
  user_fields fields;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields[reply.elements[i].text] = reply.elements[i + 1].text;
  }
  return fields;
}

std::optional<user_fields> read_user_detail(redis_client& client, const std::string& user_id,
                                            const std::string& projection) {
  const auto read = user_detail_read_for(user_id, projection);
  return decode_user_detail(client.evaluate(std::string(read.script), read.keys, read.args));
}

std::vector<std::string> roles_of(const user_fields& fields) {
  std::vector<std::string> roles;
  for (const auto role : known_roles) {
    const auto found = fields.find(role_field(role));
    if (found != fields.end() && found->second == "1") roles.emplace_back(role);
  }
  return roles;
}

}  // namespace cqrs::projections::user
