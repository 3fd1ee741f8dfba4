#include "commands/product/product_state.hpp"

#include <variant>

namespace cqrs::commands::product {

namespace {

using namespace cqrs::schemas;

void apply(product_state& s, const product_created& e) {
  s.exists = true;
  s.code = e.code;
  s.name = e.name;
  s.description = e.description;
  s.price = e.price;
  s.on_hand = e.initial_stock;
}

void apply(product_state& s, const product_details_updated& e) {
  s.name = e.name;
  s.description = e.description;
}

void apply(product_state& s, const product_price_changed& e) { s.price = e.price; }

void apply(product_state& s, const product_restocked& e) { s.on_hand += e.added.value(); }

void apply(product_state& s, const stock_reserved& e) {
  s.reserved += e.reserved.value();
  s.open_reservations.emplace(e.reservation, e.reserved.value());
}

void close(product_state& s, const reservation_id& id, std::int64_t units) {
  s.reserved -= units;
  s.open_reservations.erase(id);
  s.closed_reservations.insert(id);
}

void apply(product_state& s, const reservation_released& e) { close(s, e.reservation, e.released.value()); }

void apply(product_state& s, const reservation_committed& e) {
  close(s, e.reservation, e.committed.value());
  s.on_hand -= e.committed.value();
}

void apply(product_state& s, const product_discontinued&) { s.discontinued = true; }

}  // namespace

product_state evolve(product_state state, const schemas::product_event& event) {
  std::visit([&state](const auto& e) { apply(state, e); }, event);
  return state;
}

}  // namespace cqrs::commands::product
