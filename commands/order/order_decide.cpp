#include "commands/order/order_decide.hpp"

#include <optional>
#include <set>
#include <string>
#include <variant>

#include <fmt/format.h>

#include "commands/order/order_limits.hpp"

namespace cqrs::commands::order {

namespace {

namespace s = schemas;

using check = std::optional<rejection>;

order_decision reject(errc code, std::string detail) { return order_decision::reject(rejection{code, std::move(detail)}); }

order_decision accept(s::order_event event) { return order_decision::accept({std::move(event)}); }

order_decision nothing_changes() { return order_decision::accept({}); }

rejection refused_transition(const order_state& state, lifecycle_event event) {
  return rejection{errc::invalid_transition,
                   fmt::format("an order that is {} does not accept {}", to_string(state.status), to_string(event))};
}

// The lifecycle's answer for a command of an existing order.
check fits_lifecycle(const order_state& state, lifecycle_event event) {
  if (state.status == order_status::none && event != lifecycle_event::place) {
    return rejection{errc::order_not_found, "no order on this stream"};
  }
  if (state.status != order_status::none && event == lifecycle_event::place) {
    return rejection{errc::order_already_exists, "this order was placed already"};
  }
  if (!next_status(state.status, event)) return refused_transition(state, event);
  return std::nullopt;
}

check check_text(const std::string& text, std::size_t max, errc code, std::string_view what) {
  if (text.empty() || text.size() > max) return rejection{code, fmt::format("{} must have 1 to {} characters", what, max)};
  return std::nullopt;
}

check check_currency(const s::currency_code& currency) {
  const auto& code = currency.value();
  const bool upper = code.size() == 3 && code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos;
  if (!upper) return rejection{errc::invalid_currency, "a currency is three upper-case letters (ISO 4217)"};
  return std::nullopt;
}

check check_line(const s::order_line& line) {
  if (auto bad = check_text(line.product.value(), limits::max_id_length, errc::invalid_product, "a product id")) return bad;
  if (line.units.value() < 1 || line.units.value() > limits::max_quantity) {
    return rejection{errc::invalid_quantity, fmt::format("a quantity is 1 to {}", limits::max_quantity)};
  }
  if (line.unit_price.amount_minor < 0 || line.unit_price.amount_minor > limits::max_unit_price_minor) {
    return rejection{errc::invalid_price, fmt::format("a unit price is 0 to {} minor units", limits::max_unit_price_minor)};
  }
  return check_currency(line.unit_price.currency);
}

check check_lines(const std::vector<s::order_line>& lines) {
  if (lines.empty() || lines.size() > limits::max_lines) {
    return rejection{errc::invalid_lines, fmt::format("an order has 1 to {} lines", limits::max_lines)};
  }
  std::set<s::product_id> products;
  for (const auto& line : lines) {
    if (auto bad = check_line(line)) return bad;
    if (!products.insert(line.product).second) {
      return rejection{errc::duplicate_product, fmt::format("product {} is on two lines", line.product.value())};
    }
    if (line.unit_price.currency != lines.front().unit_price.currency) {
      return rejection{errc::mixed_currencies, "every line of an order is in one currency"};
    }
  }
  return std::nullopt;
}

check check_address(const s::shipping_address& a) {
  for (const auto* field : {&a.line1, &a.city, &a.postal_code, &a.country}) {
    if (auto bad = check_text(*field, limits::max_address_field_length, errc::invalid_address, "each address field")) {
      return bad;
    }
  }
  return std::nullopt;
}

check first_failure(std::initializer_list<check> checks) {
  for (const auto& c : checks) {
    if (c) return c;
  }
  return std::nullopt;
}

s::money total_of(const std::vector<s::order_line>& lines) {
  s::money total{0, lines.front().unit_price.currency};
  for (const auto& line : lines) total.amount_minor += line.units.value() * line.unit_price.amount_minor;
  return total;
}

order_decision decide_one(const order_state& state, const s::place_order& c) {
  if (auto bad = fits_lifecycle(state, lifecycle_event::place)) return order_decision::reject(*bad);
  if (auto bad = first_failure({check_text(c.customer.value(), limits::max_id_length, errc::invalid_customer, "a customer id"),
                                check_lines(c.lines), check_address(c.address),
                                check_text(c.payment.value(), limits::max_id_length, errc::invalid_payment_id, "a payment id"),
                                check_text(c.card.value(), limits::max_card_token_length, errc::invalid_card_token,
                                           "a card token")})) {
    return order_decision::reject(*bad);
  }
  return accept(s::order_placed{c.customer, c.lines, total_of(c.lines), c.address, c.payment});
}

// A command whose only effect is its lifecycle event (with an optional reason).
template <typename Event>
order_decision move(const order_state& state, lifecycle_event event, Event fact) {
  if (auto bad = fits_lifecycle(state, event)) return order_decision::reject(*bad);
  if constexpr (requires { fact.reason; }) {
    if (auto bad = check_text(fact.reason, limits::max_reason_length, errc::invalid_reason, "a reason")) {
      return order_decision::reject(*bad);
    }
  }
  return accept(std::move(fact));
}

order_decision decide_one(const order_state& state, const s::mark_order_stock_reserved&) {
  return move(state, lifecycle_event::reserve_stock, s::order_stock_reserved{});
}
order_decision decide_one(const order_state& state, const s::reject_order& c) {
  return move(state, lifecycle_event::reject, s::order_rejected{c.reason});
}
order_decision decide_one(const order_state& state, const s::mark_order_paid&) {
  return move(state, lifecycle_event::pay, s::order_paid{});
}
order_decision decide_one(const order_state& state, const s::mark_order_payment_failed& c) {
  return move(state, lifecycle_event::fail_payment, s::order_payment_failed{c.reason});
}
order_decision decide_one(const order_state& state, const s::expire_order&) {
  return move(state, lifecycle_event::expire, s::order_expired{});
}
order_decision decide_one(const order_state& state, const s::ship_order&) {
  return move(state, lifecycle_event::ship, s::order_shipped{});
}
order_decision decide_one(const order_state& state, const s::deliver_order&) {
  return move(state, lifecycle_event::deliver, s::order_delivered{});
}

order_decision decide_one(const order_state& state, const s::cancel_order& c) {
  if (auto bad = fits_lifecycle(state, lifecycle_event::cancel)) return order_decision::reject(*bad);
  if (c.by != s::cancelled_by::customer && c.by != s::cancelled_by::admin) {
    return reject(errc::invalid_cancelled_by, "an order is cancelled by \"customer\" or \"admin\"");
  }
  return accept(s::order_cancelled{c.by, state.status == order_status::paid});
}

// The refund's id and amount, checked against the order.
check check_refund(const order_state& state, const s::refund_id& id, const s::money& amount) {
  if (auto bad = check_text(id.value(), limits::max_id_length, errc::invalid_refund_id, "a refund id")) return bad;
  if (amount.amount_minor <= 0 || amount.currency != state.total.currency) {
    return rejection{errc::invalid_amount,
                     fmt::format("a refund is above 0 and in the order's currency {}", state.total.currency.value())};
  }
  return std::nullopt;
}

// The same refund id again: nothing changes if it names the same amount, else refused.
std::optional<order_decision> seen_refund(const std::map<s::refund_id, std::int64_t>& seen, const s::refund_id& id,
                                          const s::money& amount) {
  const auto found = seen.find(id);
  if (found == seen.end()) return std::nullopt;
  if (found->second == amount.amount_minor) return nothing_changes();
  return reject(errc::refund_id_already_used, fmt::format("refund {} was for {} minor units", id.value(), found->second));
}

order_decision decide_one(const order_state& state, const s::request_order_refund& c) {
  if (auto bad = fits_lifecycle(state, lifecycle_event::request_refund)) return order_decision::reject(*bad);
  if (auto bad = check_refund(state, c.refund, c.amount)) return order_decision::reject(*bad);
  if (auto again = seen_refund(state.requested_refunds, c.refund, c.amount)) return *again;
  if (auto again = seen_refund(state.recorded_refunds, c.refund, c.amount)) return *again;
  const auto left = state.total.amount_minor - state.refunded_minor - state.requested_minor();
  if (c.amount.amount_minor > left) {
    return reject(errc::refund_exceeds_total, fmt::format("{} minor units are left to refund", left));
  }
  return accept(s::order_refund_requested{c.refund, c.amount});
}

order_decision decide_one(const order_state& state, const s::record_order_refund& c) {
  // Refused first where no refund can be recorded at all; the amount then says which event it is.
  const auto full_refused = fits_lifecycle(state, lifecycle_event::record_full_refund);
  if (full_refused && fits_lifecycle(state, lifecycle_event::record_partial_refund)) {
    return order_decision::reject(*full_refused);
  }
  if (auto again = seen_refund(state.recorded_refunds, c.refund, c.amount)) return *again;
  if (auto bad = check_refund(state, c.refund, c.amount)) return order_decision::reject(*bad);
  const auto refunded = state.refunded_minor + c.amount.amount_minor;
  if (refunded > state.total.amount_minor) {
    return reject(errc::refund_exceeds_total,
                  fmt::format("{} minor units are left to refund", state.total.amount_minor - state.refunded_minor));
  }
  const bool full = refunded == state.total.amount_minor;
  const auto event = full ? lifecycle_event::record_full_refund : lifecycle_event::record_partial_refund;
  if (auto bad = fits_lifecycle(state, event)) return order_decision::reject(*bad);
  // Cancelled: only the refund of a paid order's whole amount completes it.
  if (state.status == order_status::cancelled && !state.refund_needed) {
    return order_decision::reject(refused_transition(state, event));
  }
  return accept(s::order_refunded{c.refund, c.amount, s::money{refunded, state.total.currency}, full});
}

}  // namespace

order_decision decide(const order_state& state, const schemas::order_command& command) {
  return std::visit([&state](const auto& c) { return decide_one(state, c); }, command);
}

}  // namespace cqrs::commands::order
