#include "commands/product/product_decide.hpp"

#include <initializer_list>
#include <optional>
#include <variant>

#include <fmt/format.h>

#include "commands/product/product_limits.hpp"
#include "commands/product/product_rules.hpp"

namespace cqrs::commands::product {

namespace {

using namespace cqrs::schemas;

product_decision reject(errc code, std::string detail) { return product_decision::reject({code, std::move(detail)}); }
product_decision accept(product_event event) { return product_decision::accept({std::move(event)}); }
product_decision nothing_changes() { return product_decision::accept({}); }

// The first failed check, in the order given (so the reported code is deterministic).
std::optional<rejection> first_failure(std::initializer_list<std::optional<rejection>> checks) {
  for (const auto& check : checks) {
    if (check) return check;
  }
  return std::nullopt;
}

// Every command but create needs the product to exist; some also refuse a discontinued one.
std::optional<rejection> check_exists(const product_state& s) {
  if (s.exists) return std::nullopt;
  return rejection{errc::product_not_found, "no such product"};
}

std::optional<rejection> check_active(const product_state& s) {
  if (auto missing = check_exists(s)) return missing;
  if (!s.discontinued) return std::nullopt;
  return rejection{errc::product_discontinued, "the product is discontinued"};
}

product_decision decide_one(const product_state& s, const create_product& c) {
  if (s.exists) return reject(errc::product_already_exists, "the product already exists");
  if (auto failed = first_failure({rules::check_sku(c.code), rules::check_name(c.name),
                                   rules::check_description(c.description), rules::check_price(c.price),
                                   rules::check_initial_stock(c.initial_stock)})) {
    return product_decision::reject(*failed);
  }
  return accept(product_created{c.code, c.name, c.description, c.price, c.initial_stock});
}

// Allowed on a discontinued product: its page still exists and may need corrections.
product_decision decide_one(const product_state& s, const update_product_details& c) {
  if (auto failed = first_failure({check_exists(s), rules::check_name(c.name), rules::check_description(c.description)})) {
    return product_decision::reject(*failed);
  }
  if (c.name == s.name && c.description == s.description) return nothing_changes();
  return accept(product_details_updated{c.name, c.description});
}

product_decision decide_one(const product_state& s, const change_product_price& c) {
  if (auto failed = first_failure({check_active(s), rules::check_price(c.price)})) return product_decision::reject(*failed);
  if (c.price == s.price) return nothing_changes();
  return accept(product_price_changed{c.price});
}

product_decision decide_one(const product_state& s, const restock_product& c) {
  if (auto failed = first_failure({check_active(s), rules::check_quantity(c.added)})) return product_decision::reject(*failed);
  if (s.on_hand > limits::max_on_hand - c.added.value()) {
    return reject(errc::stock_limit_exceeded, fmt::format("stock on hand is limited to {} units", limits::max_on_hand));
  }
  return accept(product_restocked{c.added});
}

product_decision decide_one(const product_state& s, const reserve_stock& c) {
  if (auto failed = first_failure({check_active(s), rules::check_reservation_id(c.reservation),
                                   rules::check_quantity(c.wanted)})) {
    return product_decision::reject(*failed);
  }
  if (s.reservation_id_used(c.reservation)) {
    return reject(errc::reservation_id_already_used, "this reservation id was already used for this product");
  }
  if (c.wanted.value() > s.available()) {
    return reject(errc::insufficient_stock, fmt::format("{} units available, {} wanted", s.available(), c.wanted.value()));
  }
  return accept(stock_reserved{c.reservation, c.wanted});
}

// The open reservation's quantity, or why there is none. Discontinuing does not block this:
// reservations made before must still be completed or given back.
std::variant<std::int64_t, rejection> open_reservation(const product_state& s, const reservation_id& id) {
  if (auto failed = first_failure({check_exists(s), rules::check_reservation_id(id)})) return *failed;
  if (const auto found = s.open_reservations.find(id); found != s.open_reservations.end()) return found->second;
  if (s.closed_reservations.contains(id)) {
    return rejection{errc::reservation_closed, "the reservation was already released or committed"};
  }
  return rejection{errc::reservation_not_found, "no such reservation"};
}

template <typename Event>
product_decision close_reservation(const product_state& s, const reservation_id& id) {
  const auto units = open_reservation(s, id);
  if (const auto* why = std::get_if<rejection>(&units)) return product_decision::reject(*why);
  return accept(Event{id, quantity(std::get<std::int64_t>(units))});
}

product_decision decide_one(const product_state& s, const release_reservation& c) {
  return close_reservation<reservation_released>(s, c.reservation);
}

product_decision decide_one(const product_state& s, const commit_reservation& c) {
  return close_reservation<reservation_committed>(s, c.reservation);
}

product_decision decide_one(const product_state& s, const discontinue_product& c) {
  if (auto failed = first_failure({check_exists(s), rules::check_reason(c.reason)})) return product_decision::reject(*failed);
  if (s.discontinued) return nothing_changes();
  return accept(product_discontinued{c.reason});
}

}  // namespace

product_decision decide(const product_state& state, const schemas::product_command& command) {
  return std::visit([&state](const auto& c) { return decide_one(state, c); }, command);
}

}  // namespace cqrs::commands::product
