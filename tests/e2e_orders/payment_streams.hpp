#pragma once

// What the order process would write on a payment's stream, written by the test itself through
// the payment's command pipeline on the stack's event store, for tests that run without the
// process (the webhook's cases need a requested payment).

#include <cstdint>
#include <string>

namespace cqrs::tests {

// payment.request {order_id, amount EUR cents, card_token tok_pending} on payment-<payment_id>;
// REQUIREs that it was accepted.
void request_payment(const std::string& payment_id, const std::string& order_id, std::int64_t amount);

}  // namespace cqrs::tests
