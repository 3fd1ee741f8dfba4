#include "commands/payment/payment_decide.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <variant>

#include <fmt/format.h>

namespace cqrs::commands::payment {

namespace {

namespace s = schemas;

using check = std::optional<rejection>;

constexpr std::size_t max_id_length = 100;  // order, charge and refund ids
constexpr std::size_t max_card_token_length = 200;
constexpr std::size_t max_reason_length = 500;
constexpr std::int64_t max_amount_minor = 1'000'000'000'000'000;

payment_decision reject(errc code, std::string detail) {
  return payment_decision::reject(rejection{code, std::move(detail)});
}

payment_decision accept(s::payment_event event) { return payment_decision::accept({std::move(event)}); }

payment_decision nothing_changes() { return payment_decision::accept({}); }

// The status must be one of `accepted`; a payment that does not exist yet is not found.
check in_status(const payment_state& state, std::initializer_list<payment_status> accepted, std::string_view command) {
  if (state.status == payment_status::none) return rejection{errc::payment_not_found, "no payment on this stream"};
  for (const auto status : accepted) {
    if (state.status == status) return std::nullopt;
  }
  return rejection{errc::invalid_transition,
                   fmt::format("a payment that is {} does not accept {}", to_string(state.status), command)};
}

check check_text(const std::string& text, std::size_t max, errc code, std::string_view what) {
  if (text.empty() || text.size() > max) return rejection{code, fmt::format("{} must have 1 to {} characters", what, max)};
  return std::nullopt;
}

check check_money(const s::money& amount) {
  const auto& code = amount.currency.value();
  if (code.size() != 3 || code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
    return rejection{errc::invalid_currency, "a currency is three upper-case letters (ISO 4217)"};
  }
  if (amount.amount_minor <= 0 || amount.amount_minor > max_amount_minor) {
    return rejection{errc::invalid_amount, fmt::format("an amount is 1 to {} minor units", max_amount_minor)};
  }
  return std::nullopt;
}

check first_failure(std::initializer_list<check> checks) {
  for (const auto& c : checks) {
    if (c) return c;
  }
  return std::nullopt;
}

payment_decision decide_one(const payment_state& state, const s::request_payment& c) {
  if (state.status != payment_status::none) return reject(errc::payment_already_exists, "this payment was requested already");
  if (auto bad = first_failure({check_text(c.order.value(), max_id_length, errc::invalid_order_id, "an order id"),
                                check_money(c.amount),
                                check_text(c.card.value(), max_card_token_length, errc::invalid_card_token, "a card token")})) {
    return payment_decision::reject(*bad);
  }
  return accept(s::payment_requested{c.order, c.amount, c.card});
}

// The charge the payment already knows (pending or authorized) must be the one named.
check same_charge(const payment_state& state, const s::charge_id& charge) {
  if (auto bad = check_text(charge.value(), max_id_length, errc::invalid_charge_id, "a charge id")) return bad;
  if (!state.charge.value().empty() && state.charge != charge) {
    return rejection{errc::charge_id_mismatch, fmt::format("the payment's charge is {}", state.charge.value())};
  }
  return std::nullopt;
}

payment_decision decide_one(const payment_state& state, const s::mark_payment_pending& c) {
  if (auto bad = in_status(state, {payment_status::requested}, "mark_pending")) return payment_decision::reject(*bad);
  if (auto bad = same_charge(state, c.charge)) return payment_decision::reject(*bad);
  if (state.pending) return nothing_changes();
  return accept(s::payment_pending{c.charge});
}

payment_decision decide_one(const payment_state& state, const s::authorize_payment& c) {
  if (auto bad = in_status(state, {payment_status::requested, payment_status::authorized}, "authorize")) {
    return payment_decision::reject(*bad);
  }
  if (auto bad = same_charge(state, c.charge)) return payment_decision::reject(*bad);
  if (state.status == payment_status::authorized) return nothing_changes();
  return accept(s::payment_authorized{c.charge});
}

payment_decision decide_one(const payment_state& state, const s::capture_payment&) {
  if (auto bad = in_status(state, {payment_status::authorized, payment_status::captured}, "capture")) {
    return payment_decision::reject(*bad);
  }
  if (state.status == payment_status::captured) return nothing_changes();
  return accept(s::payment_captured{state.amount});
}

// Declined, failed and voided end a payment not captured; the same ending again changes nothing.
template <typename Event>
payment_decision end(const payment_state& state, payment_status ending, std::initializer_list<payment_status> from,
                     std::string_view command, Event fact) {
  if (state.status == ending) return nothing_changes();
  if (auto bad = in_status(state, from, command)) return payment_decision::reject(*bad);
  if constexpr (requires { fact.reason; }) {
    if (auto bad = check_text(fact.reason, max_reason_length, errc::invalid_reason, "a reason")) {
      return payment_decision::reject(*bad);
    }
  }
  return accept(std::move(fact));
}

payment_decision decide_one(const payment_state& state, const s::decline_payment& c) {
  return end(state, payment_status::declined, {payment_status::requested}, "decline", s::payment_declined{c.reason});
}

payment_decision decide_one(const payment_state& state, const s::fail_payment& c) {
  return end(state, payment_status::failed, {payment_status::requested, payment_status::authorized}, "fail",
             s::payment_failed{c.reason});
}

payment_decision decide_one(const payment_state& state, const s::void_payment&) {
  return end(state, payment_status::voided, {payment_status::requested, payment_status::authorized}, "void",
             s::payment_voided{});
}

payment_decision decide_one(const payment_state& state, const s::refund_payment& c) {
  if (state.status != payment_status::none) {
    if (const auto found = state.refunds.find(c.refund); found != state.refunds.end()) {
      if (found->second == c.amount.amount_minor) return nothing_changes();
      return reject(errc::refund_id_already_used,
                    fmt::format("refund {} was for {} minor units", c.refund.value(), found->second));
    }
  }
  if (auto bad = in_status(state, {payment_status::captured}, "refund")) return payment_decision::reject(*bad);
  if (auto bad = first_failure({check_text(c.refund.value(), max_id_length, errc::invalid_refund_id, "a refund id"),
                                check_money(c.amount)})) {
    return payment_decision::reject(*bad);
  }
  if (c.amount.currency != state.amount.currency) {
    return reject(errc::invalid_amount, fmt::format("a refund is in the payment's currency {}", state.amount.currency.value()));
  }
  const auto refunded = state.refunded_minor + c.amount.amount_minor;
  if (refunded > state.captured_minor) {
    return reject(errc::refund_exceeds_captured,
                  fmt::format("{} minor units are left to refund", state.captured_minor - state.refunded_minor));
  }
  return accept(s::payment_refunded{c.refund, c.amount, s::money{refunded, state.amount.currency}});
}

}  // namespace

payment_decision decide(const payment_state& state, const schemas::payment_command& command) {
  return std::visit([&state](const auto& c) { return decide_one(state, c); }, command);
}

}  // namespace cqrs::commands::payment
