#pragma once

// The User rules: given the state and a command, the events that follow or the rejection. Pure.
// The two rules it cannot check alone are enforced by claims the pipeline writes in the append's
// transaction (user_aggregate.hpp): the e-mail address is unique across users (claim
// "user.email" on the blind index), and the last active admin cannot leave (the "user.admin"
// set may not go empty).

#include "commands/user/user_errc.hpp"
#include "commands/user/user_state.hpp"
#include "core/aggregate.hpp"
#include "schemas/contracts/user/user_commands.hpp"
#include "schemas/contracts/user/user_events.hpp"

namespace cqrs::commands::user {

using user_decision = core::decision<schemas::user_event, rejection>;

user_decision decide(const user_state& state, const schemas::user_command& command);

}  // namespace cqrs::commands::user
