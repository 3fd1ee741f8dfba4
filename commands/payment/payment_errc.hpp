#pragma once

// Why the Payment aggregate refuses a command. The numeric values and the names are stable:
// callers (HTTP answers, the order process, the provider webhook) match on them, so never
// renumber or rename; only add.

#include <string>
#include <string_view>

namespace cqrs::commands::payment {

enum class errc {
  payment_already_exists = 1,  // payment.request on a stream that holds a payment
  payment_not_found = 2,       // any other command on a stream without a payment
  invalid_transition = 3,      // the payment's status does not accept the command (the detail names it)
  invalid_order_id = 4,
  invalid_amount = 5,          // 0 or less, above the limit, or (a refund) in another currency
  invalid_currency = 6,        // not three upper-case letters
  invalid_card_token = 7,
  invalid_charge_id = 8,
  charge_id_mismatch = 9,      // another charge than the one the payment is pending or authorized with
  invalid_reason = 10,
  invalid_refund_id = 11,
  refund_exceeds_captured = 12,  // refunds would pass the captured amount
  refund_id_already_used = 13,   // the refund id names another amount
};

// "payment.refund_exceeds_captured": the code as it appears outside the process.
std::string_view to_string(errc code);

// The command field a code is about ("" when none): for error answers naming the field.
std::string_view field_of(errc code);

struct rejection {
  errc code;
  std::string detail;  // for humans; never matched on

  friend bool operator==(const rejection&, const rejection&) = default;
};

}  // namespace cqrs::commands::payment
