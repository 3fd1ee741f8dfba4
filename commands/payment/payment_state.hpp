#pragma once

// What the Payment aggregate knows when it decides. Built only by folding events (`evolve`).
//
// Statuses: requested (also while the card processor holds the charge pending: `pending`),
// authorized, captured (partial refunds keep it captured, their sum in refunded_minor), declined,
// failed, voided, refunded (the refunds reached the captured amount).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "schemas/contracts/payment/payment_events.hpp"

namespace cqrs::commands::payment {

// Stable numbers: they are stored in snapshots. `none`: no payment on the stream yet.
enum class payment_status {
  none = 0,
  requested = 1,
  authorized = 2,
  captured = 3,
  declined = 4,
  failed = 5,
  voided = 6,
  refunded = 7,
};

std::string_view to_string(payment_status status);

struct payment_state {
  payment_status status = payment_status::none;
  schemas::order_id order;
  schemas::money amount;
  schemas::card_token card;
  schemas::charge_id charge;  // once pending or authorized
  bool pending = false;       // the card processor settles the charge later
  std::string reason;         // why it was declined or failed
  std::int64_t captured_minor = 0;
  std::map<schemas::refund_id, std::int64_t> refunds;  // minor units each
  std::int64_t refunded_minor = 0;

  friend bool operator==(const payment_state&, const payment_state&) = default;
};

// Folds one event. Total: events are facts already checked by `decide`, so nothing is refused.
payment_state evolve(payment_state state, const schemas::payment_event& event);

}  // namespace cqrs::commands::payment
