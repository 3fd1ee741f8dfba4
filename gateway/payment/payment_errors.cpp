#include "gateway/payment/payment_errors.hpp"

#include <cstdlib>

namespace cqrs::gateway {

error_mapping map_error(commands::payment::errc code) {
  using commands::payment::errc;
  const auto name = commands::payment::to_string(code);
  const auto make = &make_error_mapping;
  switch (code) {
    case errc::payment_already_exists: return make(409, name, "The payment already exists");
    case errc::payment_not_found: return make(404, name, "No such payment");
    case errc::invalid_transition: return make(422, name, "The payment's state does not allow this");
    case errc::invalid_order_id: return make(400, name, "Invalid order id");
    case errc::invalid_amount: return make(400, name, "Invalid amount");
    case errc::invalid_currency: return make(400, name, "Invalid currency");
    case errc::invalid_card_token: return make(400, name, "Invalid card token");
    case errc::invalid_charge_id: return make(400, name, "Invalid charge id");
    case errc::charge_id_mismatch: return make(409, name, "Another charge than the payment's");
    case errc::invalid_reason: return make(400, name, "Invalid reason");
    case errc::invalid_refund_id: return make(400, name, "Invalid refund id");
    case errc::refund_exceeds_captured: return make(422, name, "The refunds would exceed the captured amount");
    case errc::refund_id_already_used: return make(409, name, "The refund id was used for another amount");
  }
  std::abort();
}

std::string_view field_of(commands::payment::errc code) {
  using commands::payment::errc;
  switch (code) {
    case errc::invalid_charge_id:
    case errc::charge_id_mismatch: return "data.id";
    case errc::invalid_reason: return "data.failure_code";
    case errc::payment_already_exists:
    case errc::payment_not_found:
    case errc::invalid_transition:
    case errc::invalid_order_id:
    case errc::invalid_amount:
    case errc::invalid_currency:
    case errc::invalid_card_token:
    case errc::invalid_refund_id:
    case errc::refund_exceeds_captured:
    case errc::refund_id_already_used: return "";
  }
  std::abort();
}

std::string_view to_string(webhook_errc code) {
  switch (code) {
    case webhook_errc::malformed_signature: return "webhook.malformed_signature";
    case webhook_errc::bad_signature: return "webhook.bad_signature";
    case webhook_errc::stale_signature: return "webhook.stale_signature";
    case webhook_errc::replayed_event: return "webhook.replayed_event";
    case webhook_errc::replay_cache_full: return "webhook.replay_cache_full";
    case webhook_errc::unknown_payment: return "webhook.unknown_payment";
    case webhook_errc::webhook_not_configured: return "webhook.not_configured";
  }
  std::abort();
}

error_mapping map_error(webhook_errc code) {
  const auto name = to_string(code);
  const auto make = &make_error_mapping;
  switch (code) {
    case webhook_errc::malformed_signature: return make(401, name, "The Provider-Signature header is malformed");
    case webhook_errc::bad_signature: return make(401, name, "The signature does not match");
    case webhook_errc::stale_signature: return make(401, name, "The signature's timestamp is too far from now");
    case webhook_errc::replayed_event: return make(409, name, "This event was received before");
    case webhook_errc::replay_cache_full: return make(503, name, "Too many recent webhooks; retry later");
    case webhook_errc::unknown_payment: return make(404, name, "No such payment yet; retry later");
    case webhook_errc::webhook_not_configured: return make(401, name, "This gateway accepts no webhooks");
  }
  std::abort();
}

}  // namespace cqrs::gateway
