#include "commands/product/product_domain.hpp"

#include <boost/json/array.hpp>

#include "commands/product/product_aggregate.hpp"

namespace cqrs::commands::product {

void register_aggregates(aggregate_registry& registry) { registry.add<product_aggregate>(to_json); }

boost::json::object to_json(const product_state& state) {
  boost::json::object reservations;
  for (const auto& [id, quantity] : state.open_reservations) reservations[id.value()] = quantity;
  boost::json::array closed;
  for (const auto& id : state.closed_reservations) closed.emplace_back(id.value());
  return {{"exists", state.exists},
          {"sku", state.code.value()},
          {"name", state.name},
          {"description", state.description},
          {"price", {{"amount_minor", state.price.amount_minor}, {"currency", state.price.currency.value()}}},
          {"discontinued", state.discontinued},
          {"on_hand", state.on_hand},
          {"reserved", state.reserved},
          {"available", state.available()},
          {"open_reservations", std::move(reservations)},
          {"closed_reservations", std::move(closed)}};
}

}  // namespace cqrs::commands::product
