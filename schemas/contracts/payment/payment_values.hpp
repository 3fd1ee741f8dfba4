#pragma once

// The Payment domain's own value types. The order names its payment and its refunds with them
// (order_values.hpp), so this header depends on the shared value types only.

#include <string>

#include "schemas/contracts/value_types.hpp"

namespace cqrs::schemas {

// A payment's id: the `<uuid>` of its stream `payment-<uuid>` (the gateway generates it when the
// order is placed, and the order keeps it).
using payment_id = strong_value<std::string, struct payment_id_tag>;
// The card processor's id of a charge.
using charge_id = strong_value<std::string, struct charge_id_tag>;
// Chosen by whoever asks for a refund; one refund of a payment per id.
using refund_id = strong_value<std::string, struct refund_id_tag>;
// The card processor's token for the customer's card (never the card number).
using card_token = strong_value<std::string, struct card_token_tag>;

}  // namespace cqrs::schemas
