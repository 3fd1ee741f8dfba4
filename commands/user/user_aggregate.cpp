#include "schemas/contracts/detail/cereal_json.hpp"  // first: cereal's JSON archive before rapidjson

#include "commands/user/user_aggregate.hpp"
#include "commands/rejection_json.hpp"

#include <algorithm>
#include <stdexcept>
#include <variant>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cereal/types/set.hpp>

#include "core/subject_rights.hpp"

namespace cqrs::commands::user {

namespace {

// The stored shape of user_state, version 1: spelled out in one place, so user_state stays free
// of serialization concerns.
struct snapshot_v1 {
  static constexpr std::string_view type_name = "user.snapshot";
  static constexpr int schema_version = 1;

  user_state state;

  template <typename Archive>
  void serialize(Archive& ar) {
    auto& s = state;
    int status = static_cast<int>(s.status);
    ar(cereal::make_nvp("status", status), cereal::make_nvp("email", s.email),
       cereal::make_nvp("email_index", s.email_index), cereal::make_nvp("password_hash", s.password),
       cereal::make_nvp("name", s.name), cereal::make_nvp("phone", s.phone),
       cereal::make_nvp("postal_address", s.postal_address), cereal::make_nvp("roles", s.roles));
    s.status = static_cast<user_status>(status);
  }
};

bool includes_admin(const std::vector<schemas::user_role>& roles) {
  return std::ranges::any_of(roles, [](const auto& r) { return r.value() == schemas::user_roles::admin; });
}

unique_claim email_claim(const schemas::blind_index& index) {
  return unique_claim{std::string(email_claim_scope), index.value()};
}

claim_release leave_admins() { return claim_release{std::string(admin_claim_scope), true}; }

struct claims_of_event {
  std::vector<unique_claim> operator()(const schemas::user_registered& e) const {
    std::vector<unique_claim> all{email_claim(e.email_index)};
    if (includes_admin(e.roles)) all.push_back(unique_claim::member_of(std::string(admin_claim_scope)));
    return all;
  }
  std::vector<unique_claim> operator()(const schemas::user_email_changed& e) const { return {email_claim(e.email_index)}; }
  std::vector<unique_claim> operator()(const schemas::user_role_granted& e) const {
    if (e.role.value() != schemas::user_roles::admin) return {};
    return {unique_claim::member_of(std::string(admin_claim_scope))};
  }
  std::vector<unique_claim> operator()(const schemas::user_reactivated& e) const {
    if (!includes_admin(e.roles)) return {};
    return {unique_claim::member_of(std::string(admin_claim_scope))};
  }
  template <typename Other>
  std::vector<unique_claim> operator()(const Other&) const {
    return {};
  }
};

struct releases_of_event {
  std::vector<claim_release> operator()(const schemas::user_email_changed&) const {
    return {claim_release{std::string(email_claim_scope), false}};
  }
  std::vector<claim_release> operator()(const schemas::user_role_revoked& e) const {
    if (e.role.value() != schemas::user_roles::admin) return {};
    return {leave_admins()};
  }
  // A user who is no admin holds no admin claim: the release then removes nothing.
  std::vector<claim_release> operator()(const schemas::user_deactivated&) const { return {leave_admins()}; }
  std::vector<claim_release> operator()(const schemas::user_forgotten&) const {
    return {leave_admins(), claim_release{std::string(email_claim_scope), false}};
  }
  template <typename Other>
  std::vector<claim_release> operator()(const Other&) const {
    return {};
  }
};

}  // namespace

std::string encode_snapshot(const user_state& state) {
  static_assert(snapshot_v1::schema_version == user_aggregate::snapshot_schema_version);
  return schemas::detail::to_cereal_json(snapshot_v1{state});
}

std::optional<user_state> decode_snapshot(int schema_version, std::string_view data) {
  if (schema_version != snapshot_v1::schema_version) return std::nullopt;
  return schemas::detail::from_cereal_json<snapshot_v1>(data).state;
}

// The events after which a token's roles or the user's sign-in may no longer hold.
bool changes_rights(const schemas::user_event& event) {
  return std::holds_alternative<schemas::user_role_granted>(event) ||
         std::holds_alternative<schemas::user_role_revoked>(event) ||
         std::holds_alternative<schemas::user_deactivated>(event) ||
         std::holds_alternative<schemas::user_reactivated>(event) ||
         std::holds_alternative<schemas::user_forgotten>(event);
}

std::vector<append_effect> user_aggregate::append_effects(const core::stream_id& stream, const state_type& after,
                                                          const std::vector<event_type>& events) {
  if (std::ranges::none_of(events, changes_rights)) return {};
  const auto& text = stream.str();
  auto subject = text.substr(text.find('-') + 1);
  const bool active = after.status == user_status::active;
  std::vector<std::string> roles(after.roles.begin(), after.roles.end());
  return {[subject = std::move(subject), active, roles = std::move(roles)](pqxx::transaction_base& tx) {
    core::record_subject_rights(tx, subject, active, roles);
  }};
}

std::vector<unique_claim> user_aggregate::claims(const event_type& event) { return std::visit(claims_of_event{}, event); }

std::vector<claim_release> user_aggregate::releases(const event_type& event) {
  return std::visit(releases_of_event{}, event);
}

rejection user_aggregate::claim_refused(const unique_claim& claim) {
  // A membership claim is held by its own stream only, which is no conflict (the pipeline's
  // claim_all): only the address can be held by someone else.
  if (claim.scope != email_claim_scope) throw std::logic_error("refused claim of scope " + claim.scope);
  return rejection{errc::email_already_taken, "another user has this e-mail address"};
}

rejection user_aggregate::release_refused(const claim_release&) {
  return rejection{errc::last_admin, "the last active admin cannot be removed or deactivated"};
}

std::string user_aggregate::encode_rejection(const rejection& why) { return encode_rejection_json(why); }

std::optional<rejection> user_aggregate::decode_rejection(std::string_view text) {
  return decode_rejection_json<rejection>(text);
}

}  // namespace cqrs::commands::user
