#include "gateway/order/order_errors.hpp"

#include <cstdlib>

namespace cqrs::gateway {

error_mapping map_error(commands::order::errc code) {
  using commands::order::errc;
  const auto name = commands::order::to_string(code);
  const auto make = &make_error_mapping;
  switch (code) {
    case errc::order_already_exists: return make(409, name, "The order already exists");
    case errc::order_not_found: return make(404, name, "No such order");
    case errc::invalid_transition: return make(422, name, "The order's state does not allow this");
    case errc::invalid_customer: return make(400, name, "Invalid customer");
    case errc::invalid_lines: return make(400, name, "An order has 1 to 50 lines");
    case errc::duplicate_product: return make(400, name, "A product appears on one line only");
    case errc::invalid_product: return make(400, name, "Invalid product id");
    case errc::invalid_quantity: return make(400, name, "Invalid quantity");
    case errc::invalid_price: return make(422, name, "A product's price cannot be ordered");
    case errc::invalid_currency: return make(422, name, "A product's currency cannot be ordered");
    case errc::mixed_currencies: return make(422, name, "The products are priced in more than one currency");
    case errc::invalid_address: return make(400, name, "Invalid shipping address");
    case errc::invalid_payment_id: return make(400, name, "Invalid payment id");
    case errc::invalid_card_token: return make(400, name, "Invalid card token");
    case errc::invalid_reason: return make(400, name, "Invalid reason");
    case errc::invalid_cancelled_by: return make(400, name, "Invalid canceller");
    case errc::invalid_refund_id: return make(400, name, "Invalid refund id");
    case errc::invalid_amount: return make(400, name, "Invalid amount");
    case errc::refund_exceeds_total: return make(422, name, "The refunds would exceed the order's total");
    case errc::refund_id_already_used: return make(409, name, "The refund id was used for another amount");
  }
  std::abort();
}

std::string_view field_of(commands::order::errc code) {
  using commands::order::errc;
  switch (code) {
    case errc::invalid_lines:
    case errc::duplicate_product:
    case errc::invalid_product:
    case errc::invalid_quantity:
    case errc::invalid_price:
    case errc::invalid_currency:
    case errc::mixed_currencies: return "lines";
    case errc::invalid_address: return "shipping_address";
    case errc::invalid_card_token: return "payment.card_token";
    case errc::invalid_amount:
    case errc::refund_exceeds_total: return "amount";
    case errc::invalid_refund_id:
    case errc::refund_id_already_used: return "Idempotency-Key";
    case errc::order_already_exists:
    case errc::order_not_found:
    case errc::invalid_transition:
    case errc::invalid_customer:
    case errc::invalid_payment_id:
    case errc::invalid_reason:
    case errc::invalid_cancelled_by: return "";
  }
  std::abort();
}

}  // namespace cqrs::gateway
