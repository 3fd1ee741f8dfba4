#pragma once

// The Payment domain's refusals as HTTP answers, in one place: the Payment aggregate's codes (one
// exhaustive switch: a new code does not compile until it is mapped) with the request field each
// is about, and the webhook's own refusals.

#include <string_view>

#include "commands/payment/payment_errc.hpp"
#include "gateway/error_mapping.hpp"

namespace cqrs::gateway {

error_mapping map_error(commands::payment::errc code);
// The request's field, or "".
std::string_view field_of(commands::payment::errc code);

// Why the payment provider's webhook was refused.
enum class webhook_errc {
  malformed_signature = 1,  // no Provider-Signature, or not t=<seconds>,v1=<64 hex digits>
  bad_signature = 2,        // the HMAC does not match the body and timestamp
  stale_signature = 3,      // the timestamp is outside the tolerance
  replayed_event = 4,       // this signature, or this event id, was acted on before
  replay_cache_full = 5,    // too many recent signatures to remember: retry later
  unknown_payment = 6,      // no such payment (yet): the provider retries
  webhook_not_configured = 7,  // the gateway has no CQRS_PAYMENT_WEBHOOK_SECRET
};

std::string_view to_string(webhook_errc code);
error_mapping map_error(webhook_errc code);

}  // namespace cqrs::gateway
