#pragma once

// The Payment domain's part of the gateway: the payment read and the card processor's webhook
// (payment_routes.hpp). Payment commands come from the order process and the webhook only: no
// command cache (every command is decided on the stream as stored).

#include "gateway/domain.hpp"

namespace cqrs::gateway {

gateway_domain payment_gateway();

}  // namespace cqrs::gateway
