#pragma once

// The User aggregate, stream category "user" (`user-<id>`). The rules are in user_decide.cpp, the
// folding in user_state.cpp; this type binds them together for the command pipeline
// (core::aggregate, commands::stored_aggregate and commands::releasing_aggregate).
//
// Claims written with the events, in the append's transaction (commands/unique_claim.hpp):
// - "user.email", value the blind index: claimed by user.registered and user.email_changed (which
//   first releases the old one), released by user.forgotten. A second user with the address is
//   refused with email_already_taken.
// - "user.admin", a membership claim: the set of active admins. Joined by user.role_granted
//   (admin) and user.reactivated (of an admin); left by user.role_revoked (admin),
//   user.deactivated and user.forgotten, each refused with last_admin when it would empty the set.
// Rights written with the events, in the same transaction: see append_effects.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/stored_aggregate.hpp"
#include "commands/unique_claim.hpp"
#include "commands/user/user_decide.hpp"
#include "commands/user/user_errc.hpp"
#include "commands/user/user_state.hpp"
#include "schemas/contracts/encoded_payload.hpp"
#include "schemas/contracts/user/user_codec.hpp"

namespace cqrs::commands::user {

inline constexpr std::string_view email_claim_scope = "user.email";
inline constexpr std::string_view admin_claim_scope = "user.admin";

// The snapshot's stored form: cereal JSON of user_state (sealed fields stay sealed).
std::string encode_snapshot(const user_state& state);
std::optional<user_state> decode_snapshot(int schema_version, std::string_view data);

struct user_aggregate {
  using state_type = user_state;
  using event_type = schemas::user_event;
  using command_type = schemas::user_command;
  using rejection_type = rejection;

  static constexpr std::string_view category = "user";
  static constexpr int snapshot_schema_version = 1;

  static state_type initial_state() { return {}; }
  static state_type evolve(state_type state, const event_type& event) { return user::evolve(std::move(state), event); }
  static user_decision decide(const state_type& state, const command_type& command) {
    return user::decide(state, command);
  }

  static schemas::encoded_payload encode_event(const event_type& event) { return schemas::encode(event); }
  static event_type decode_event(std::string_view type, int version, std::string_view data) {
    return schemas::decode_user_event(type, version, data);
  }
  static std::string encode_snapshot(const state_type& state) { return user::encode_snapshot(state); }
  static std::optional<state_type> decode_snapshot(int version, std::string_view data) {
    return user::decode_snapshot(version, data);
  }
  static schemas::encoded_payload encode_command(const command_type& command) { return schemas::encode(command); }

  static std::vector<unique_claim> claims(const event_type& event);
  // Events that change what the user may do (roles, deactivation, reactivation, forgetting)
  // record the user's rights for every gateway's token checks (core/subject_rights.hpp) in the
  // append's transaction: no commit without its publication.
  static std::vector<append_effect> append_effects(const core::stream_id& stream, const state_type& after,
                                                   const std::vector<event_type>& events);
  static rejection claim_refused(const unique_claim& claim);
  static std::vector<claim_release> releases(const event_type& event);
  static rejection release_refused(const claim_release& release);
  // {"code": <errc's stable number>, "detail": "..."}
  static std::string encode_rejection(const rejection& why);
  static std::optional<rejection> decode_rejection(std::string_view text);
};

}  // namespace cqrs::commands::user
