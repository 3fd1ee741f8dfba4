#pragma once

// The Payment rules: given the state and a command, the events that follow or the rejection. Pure.
// A command the payment's status does not accept is `invalid_transition`, naming the status; a
// command the status already reflects (the same charge authorized twice, by the order process and
// by the card processor's webhook) changes nothing. Refunds never pass the captured amount.

#include "commands/payment/payment_errc.hpp"
#include "commands/payment/payment_state.hpp"
#include "core/aggregate.hpp"
#include "schemas/contracts/payment/payment_commands.hpp"
#include "schemas/contracts/payment/payment_events.hpp"

namespace cqrs::commands::payment {

using payment_decision = core::decision<schemas::payment_event, rejection>;

payment_decision decide(const payment_state& state, const schemas::payment_command& command);

}  // namespace cqrs::commands::payment
