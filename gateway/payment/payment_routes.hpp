#pragma once

// The Payment domain's routes (docs/http-api.md, "Payments"):
//
//   GET  /v1/payments/{id}                its customer, admin   folded from the event store
//   POST /v1/payments/provider-events     the card processor    a signed webhook
//
// A payment is always read from the event store (its stream folded on the PostgreSQL pool, never
// a read model): what the customer was charged is answered strongly consistent. Anyone but its
// order's customer and admins is answered 404, as for an unknown payment.
//
// The webhook (docs/payment-provider.md) is checked on the I/O thread: the Provider-Signature
// header (HMAC-SHA-256 over "<timestamp>.<body>" with CQRS_PAYMENT_WEBHOOK_SECRET,
// core/security/webhook_signature.hpp) must match and be recent (401 otherwise), and a signature
// already accepted is a replay (409). Then, on the PostgreSQL pool, an event id acted on before
// (payment_webhook_events, migration 0081) is a replay too (409); a settled charge becomes
// payment.authorize {charge_id} and a declined one payment.decline {reason} on the payment's
// stream, with the provider's event id as the idempotency key. The event id is recorded once the
// command was decided (accepted, or refused by the payment's state: both answer 200 and say
// which), so a delivery that failed before (503) is acted on when the provider retries it. A
// payment the engine does not know (yet) answers 404 and is not recorded: the provider retries.

#include <chrono>
#include <string>
#include <string_view>

#include "commands/payment/payment_pipeline.hpp"
#include "gateway/command_routes.hpp"
#include "gateway/domain.hpp"
#include "gateway/payment/payment_errors.hpp"

namespace cqrs::gateway::payment {

struct payment_binding {
  using aggregate = commands::payment::payment_aggregate;
  static constexpr std::string_view noun = "payment";
  static constexpr std::string_view collection = "/v1/payments";
  static constexpr std::string_view id_purpose = "cqrs.payment-id.v1";
  static error_mapping map_error(commands::payment::errc code) { return gateway::map_error(code); }
  static std::string_view code_name(commands::payment::errc code) { return commands::payment::to_string(code); }
  static std::string_view field_of(commands::payment::errc code) { return gateway::field_of(code); }
};

void add_payment_routes(router& r, const domain_context& context);

namespace detail {

// What the webhook's body says, as far as the engine cares.
struct provider_event {
  std::string id;          // the provider's event id: "evt_000001"
  std::string type;        // "charge.settled"
  std::string charge_id;   // data.id
  std::string status;      // data.status
  std::string payment_id;  // data.metadata.payment_id
  std::string failure_code;  // data.failure_code, on declined charges
};

// The event read from the body, every missing or mistyped member in `errors`.
provider_event read_provider_event(const std::string& body, std::vector<field_error>& errors);

}  // namespace detail

}  // namespace cqrs::gateway::payment
