#pragma once

// Carries out the order fulfilment saga's effects (order_fulfilment.hpp) on a worker thread:
//
// - stock.reserve / stock.release / stock.commit: the order's lines on every product at once
//   (commands/product/batch_reservation.hpp, reservation id = the order id). Answers "done", or
//   for a reservation the product's refusal (its rejection code), which rejects the order.
// - provider.charge / capture / void / refund: the card processor through the shared
//   provider_client (its resilience pipeline `payment_provider`), each under the payment's
//   idempotency key (`<payment_id>:charge`, ...), so a repeated call never charges twice.
// - provider.reconcile: the charge made under the charge's key looked up; an authorization is
//   voided, a capture refunded, a pending charge waited for (transient), none left alone.
//
// A provider answer is "done"; no answer (a timeout, an error, a lost answer) is transient; a call
// the open breaker (or a full bulkhead) refused is parked until it may be permitted again; a
// request the processor refuses outright (a 4xx other than a decline) is refused.

#include <memory>
#include <utility>

#include "commands/processes/action_results.hpp"
#include "commands/payment_provider/provider_client.hpp"

namespace cqrs::commands::processes::order_fulfilment {

class fulfilment_effects final : public effect_performer_factory {
 public:
  // `client` is shared by every worker (it is thread-safe).
  explicit fulfilment_effects(std::shared_ptr<payment_provider::provider_client> client) : client_(std::move(client)) {}
  std::unique_ptr<effect_performer> make() const override;

 private:
  std::shared_ptr<payment_provider::provider_client> client_;
};

}  // namespace cqrs::commands::processes::order_fulfilment
