#include "commands/order/order_errc.hpp"

#include <stdexcept>

namespace cqrs::commands::order {

// No `default:` on purpose: a new code without a name must fail to compile (-Wswitch -Werror).
std::string_view to_string(errc code) {
  switch (code) {
    case errc::order_already_exists: return "order.already_exists";
    case errc::order_not_found: return "order.not_found";
    case errc::invalid_transition: return "order.invalid_transition";
    case errc::invalid_customer: return "order.invalid_customer";
    case errc::invalid_lines: return "order.invalid_lines";
    case errc::duplicate_product: return "order.duplicate_product";
    case errc::invalid_product: return "order.invalid_product";
    case errc::invalid_quantity: return "order.invalid_quantity";
    case errc::invalid_price: return "order.invalid_price";
    case errc::invalid_currency: return "order.invalid_currency";
    case errc::mixed_currencies: return "order.mixed_currencies";
    case errc::invalid_address: return "order.invalid_address";
    case errc::invalid_payment_id: return "order.invalid_payment_id";
    case errc::invalid_card_token: return "order.invalid_card_token";
    case errc::invalid_reason: return "order.invalid_reason";
    case errc::invalid_cancelled_by: return "order.invalid_cancelled_by";
    case errc::invalid_refund_id: return "order.invalid_refund_id";
    case errc::invalid_amount: return "order.invalid_amount";
    case errc::refund_exceeds_total: return "order.refund_exceeds_total";
    case errc::refund_id_already_used: return "order.refund_id_already_used";
  }
  throw std::invalid_argument("not an order errc value");
}

std::string_view field_of(errc code) {
  switch (code) {
    case errc::order_already_exists:
    case errc::order_not_found:
    case errc::invalid_transition:
      return "";
    case errc::invalid_customer: return "customer_id";
    case errc::invalid_lines:
    case errc::duplicate_product:
    case errc::mixed_currencies:
      return "lines";
    case errc::invalid_product: return "product_id";
    case errc::invalid_quantity: return "quantity";
    case errc::invalid_price:
    case errc::invalid_currency:
      return "unit_price";
    case errc::invalid_address: return "shipping_address";
    case errc::invalid_payment_id: return "payment_id";
    case errc::invalid_card_token: return "card_token";
    case errc::invalid_reason: return "reason";
    case errc::invalid_cancelled_by: return "by";
    case errc::invalid_refund_id:
    case errc::refund_id_already_used:
      return "refund_id";
    case errc::invalid_amount:
    case errc::refund_exceeds_total:
      return "amount";
  }
  throw std::invalid_argument("not an order errc value");
}

}  // namespace cqrs::commands::order
