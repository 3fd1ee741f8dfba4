#pragma once

// What the card processor's answers mean to the engine, as values: the types of the provider
// client's API (provider_client.hpp), the idempotency keys, and the reading of the processor's
// JSON (docs/payment-provider.md), kept apart from the HTTP client so that they are unit-tested
// without a network.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "core/resilience/refusal.hpp"

namespace cqrs::commands::payment_provider {

enum class charge_status { authorized, captured, pending, declined, voided, refunded, partially_refunded };

std::string_view to_string(charge_status status);
std::optional<charge_status> parse_charge_status(std::string_view text);

// A definitive answer about one charge. A decline is one too (status declined, decline_code
// card_declined or insufficient_funds): the processor answered.
struct charge_answer {
  std::string charge_id;
  charge_status status = charge_status::pending;
  std::string decline_code;  // declined charges only
  std::int64_t amount_minor = 0;    // "amount": what the charge is for (0 when the answer omits it)
  std::int64_t refunded_minor = 0;  // "amount_refunded": what its refunds sum to so far

  friend bool operator==(const charge_answer&, const charge_answer&) = default;
};

// No definitive answer: a timeout, a connection lost or refused, a 5xx, after every attempt the
// resilience pipeline allowed; or a call that did not run at all (not_permitted: refused by the
// open breaker or by a full bulkhead, `refused` says which). Trying again later with the same
// idempotency key is always safe.
struct transient {
  std::string why;
  bool not_permitted = false;
  std::optional<core::resilience::refusal> refused;  // set exactly when not_permitted
};

using call_result = std::variant<charge_answer, transient>;
// find_charge: the charge made under a key, none (nothing was done under it), or no answer.
using find_result = std::variant<std::optional<charge_answer>, transient>;

// The processor refused the request itself (a 4xx other than a decline: invalid_request,
// not_found, invalid_state, idempotency_mismatch, amount_too_large). Retrying cannot change it:
// a bug or a state the caller did not expect, thrown rather than returned.
class provider_refused : public std::runtime_error {
 public:
  provider_refused(unsigned status, std::string code, const std::string& detail);
  unsigned status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  unsigned status_;
  std::string code_;
};

// The idempotency keys (one per thing done once per payment): `<payment_id>:charge`,
// `<payment_id>:capture`, `<payment_id>:void`, `<payment_id>:refund:<refund_id>`.
std::string charge_key(std::string_view payment_id);
std::string capture_key(std::string_view payment_id);
std::string void_key(std::string_view payment_id);
std::string refund_key(std::string_view payment_id, std::string_view refund_id);

// A charge object ({"id", "status", "failure_code"?, "amount"?, "amount_refunded"?, ...}); nullopt
// when it is not one.
std::optional<charge_answer> read_charge(std::string_view json);

// The answer to a charge, capture, void or refund: 2xx (the charge) and 402 (the declined charge,
// under "charge") are charge_answers, 5xx and unreadable bodies transient; any other status throws
// provider_refused.
call_result read_call_answer(unsigned status, std::string_view body);

// The answer to GET /v1/charges?idempotency_key=: {"data": [charge]} or {"data": []}.
find_result read_find_answer(unsigned status, std::string_view body);

}  // namespace cqrs::commands::payment_provider
