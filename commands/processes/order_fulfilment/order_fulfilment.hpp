#pragma once

// The order fulfilment saga (docs/processes.md, "Order fulfilment"): one process per order, id =
// the order id, found also by its payment id. It follows the order and payment categories:
//
//   order.placed        -> reserve every line (stock.reserve, one multi-stream append)
//                          -> order.mark_stock_reserved, or order.reject with the product's reason
//   payment.requested   -> the card token and amount (the payment request made at placement)
//   stock reserved and payment requested -> provider.charge (retried with backoff, parked while the
//                          breaker is open, never failed by a transient error)
//                          -> payment.authorize | payment.decline | payment.mark_pending (a webhook
//                          settles it later: payment.authorize / payment.decline)
//   payment.authorized  -> provider.capture -> payment.capture
//   payment.captured    -> commit every reservation (stock.commit) -> order.mark_paid
//   payment.declined|failed -> release every reservation (stock.release) -> order.mark_payment_failed
//   deadline "payment" (CQRS_ORDER_PAYMENT_TIMEOUT) before the capture -> order.expire,
//                          payment.fail, and provider.reconcile when a charge may exist (the charge
//                          looked up by its key, then voided or refunded)
//   order.expired | order.cancelled -> release the reservations; void an authorization; refund a
//                          capture (cancelled with refund_needed)
//   order.refund_requested -> provider.refund -> payment.refund -> order.record_refund
//
// Pure: the state is a JSON object in the process row; effects are carried out by
// fulfilment_effects.hpp.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/processes/process_definition.hpp"

namespace cqrs::commands::processes::order_fulfilment {

inline constexpr std::string_view process_type = "order_fulfilment";

// Effect names (fulfilment_effects.hpp carries them out).
namespace effect {
inline constexpr std::string_view reserve = "stock.reserve";
inline constexpr std::string_view release = "stock.release";
inline constexpr std::string_view commit = "stock.commit";
inline constexpr std::string_view charge = "provider.charge";
inline constexpr std::string_view capture = "provider.capture";
inline constexpr std::string_view void_charge = "provider.void";
inline constexpr std::string_view refund = "provider.refund";
inline constexpr std::string_view reconcile = "provider.reconcile";
}  // namespace effect

class order_fulfilment final : public process_definition {
 public:
  explicit order_fulfilment(std::chrono::milliseconds payment_timeout);

  std::string_view type() const override { return process_type; }
  std::vector<std::string> categories() const override { return {"order", "payment"}; }
  std::optional<route> route_of(const core::recorded_event& event) const override;
  std::optional<reaction> on_event(const std::optional<instance_view>& current,
                                   const core::recorded_event& event) const override;
  std::optional<reaction> on_deadline(const instance_view& current, std::string_view name) const override;
  std::optional<reaction> on_effect(const instance_view& current, const effect_outcome& done) const override;

 private:
  std::chrono::milliseconds payment_timeout_;
};

}  // namespace cqrs::commands::processes::order_fulfilment
