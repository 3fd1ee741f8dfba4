#pragma once

// Why the Order aggregate refuses a command. The numeric values and the names are stable:
// callers (HTTP answers, the order process, other services) match on them, so never renumber or
// rename; only add.

#include <string>
#include <string_view>

namespace cqrs::commands::order {

enum class errc {
  order_already_exists = 1,  // order.place on a stream that holds an order
  order_not_found = 2,       // any other command on a stream without an order
  invalid_transition = 3,    // the order's status does not accept the command (the detail names it)
  invalid_customer = 4,
  invalid_lines = 5,          // no line, or more than max_lines
  duplicate_product = 6,      // a product on two lines
  invalid_product = 7,        // an empty or overlong product id
  invalid_quantity = 8,       // outside 1..max_quantity
  invalid_price = 9,          // a unit price below 0 or above max_unit_price_minor
  invalid_currency = 10,      // not three upper-case letters
  mixed_currencies = 11,      // lines in more than one currency
  invalid_address = 12,       // a shipping address field empty or too long
  invalid_payment_id = 13,
  invalid_card_token = 14,
  invalid_reason = 15,
  invalid_cancelled_by = 16,  // neither "customer" nor "admin"
  invalid_refund_id = 17,
  invalid_amount = 18,        // a refund of 0 or less, or in another currency than the order's
  refund_exceeds_total = 19,  // refunds (recorded and requested) would pass the order's total
  refund_id_already_used = 20,  // the refund id names another amount
};

// "order.invalid_transition": the code as it appears outside the process.
std::string_view to_string(errc code);

// The command field a code is about ("" when none): for error answers naming the field.
std::string_view field_of(errc code);

struct rejection {
  errc code;
  std::string detail;  // for humans; never matched on

  friend bool operator==(const rejection&, const rejection&) = default;
};

}  // namespace cqrs::commands::order
