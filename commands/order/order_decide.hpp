#pragma once

// The Order rules: given the state and a command, the events that follow or the rejection. Pure.
// Whether the command fits the order's status is the lifecycle's answer (order_lifecycle.hpp): a
// command it refuses is `invalid_transition`, naming the status. The values are checked next.

#include "commands/order/order_errc.hpp"
#include "commands/order/order_state.hpp"
#include "core/aggregate.hpp"
#include "schemas/contracts/order/order_commands.hpp"
#include "schemas/contracts/order/order_events.hpp"

namespace cqrs::commands::order {

using order_decision = core::decision<schemas::order_event, rejection>;

order_decision decide(const order_state& state, const schemas::order_command& command);

}  // namespace cqrs::commands::order
