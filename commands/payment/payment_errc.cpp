#include "commands/payment/payment_errc.hpp"

#include <stdexcept>

namespace cqrs::commands::payment {

// No `default:` on purpose: a new code without a name must fail to compile (-Wswitch -Werror).
std::string_view to_string(errc code) {
  switch (code) {
    case errc::payment_already_exists: return "payment.already_exists";
    case errc::payment_not_found: return "payment.not_found";
    case errc::invalid_transition: return "payment.invalid_transition";
    case errc::invalid_order_id: return "payment.invalid_order_id";
    case errc::invalid_amount: return "payment.invalid_amount";
    case errc::invalid_currency: return "payment.invalid_currency";
    case errc::invalid_card_token: return "payment.invalid_card_token";
    case errc::invalid_charge_id: return "payment.invalid_charge_id";
    case errc::charge_id_mismatch: return "payment.charge_id_mismatch";
    case errc::invalid_reason: return "payment.invalid_reason";
    case errc::invalid_refund_id: return "payment.invalid_refund_id";
    case errc::refund_exceeds_captured: return "payment.refund_exceeds_captured";
    case errc::refund_id_already_used: return "payment.refund_id_already_used";
  }
  throw std::invalid_argument("not a payment errc value");
}

std::string_view field_of(errc code) {
  switch (code) {
    case errc::payment_already_exists:
    case errc::payment_not_found:
    case errc::invalid_transition:
      return "";
    case errc::invalid_order_id: return "order_id";
    case errc::invalid_amount:
    case errc::invalid_currency:
    case errc::refund_exceeds_captured:
      return "amount";
    case errc::invalid_card_token: return "card_token";
    case errc::invalid_charge_id:
    case errc::charge_id_mismatch:
      return "charge_id";
    case errc::invalid_reason: return "reason";
    case errc::invalid_refund_id:
    case errc::refund_id_already_used:
      return "refund_id";
  }
  throw std::invalid_argument("not a payment errc value");
}

}  // namespace cqrs::commands::payment
