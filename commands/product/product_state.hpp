#pragma once

// What the Product aggregate knows when it decides: its catalog data and its stock. Built only by
// folding events (`evolve`); stored as a snapshot now and then to make loading cheap.

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "schemas/contracts/product/product_events.hpp"
#include "schemas/contracts/product/product_values.hpp"

namespace cqrs::commands::product {

struct product_state {
  bool exists = false;
  schemas::sku code;
  std::string name;
  std::string description;
  schemas::money price;
  bool discontinued = false;
  // Physical units, reservations included: a committed reservation leaves; a released one stays.
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
  std::map<schemas::reservation_id, std::int64_t> open_reservations;
  // Released or committed: kept because a reservation id is used once, ever.
  std::set<schemas::reservation_id> closed_reservations;

  std::int64_t available() const { return on_hand - reserved; }
  bool reservation_id_used(const schemas::reservation_id& id) const {
    return open_reservations.contains(id) || closed_reservations.contains(id);
  }

  friend bool operator==(const product_state&, const product_state&) = default;
};

// Folds one event. Total: events are facts already checked by `decide`, so nothing is refused.
product_state evolve(product_state state, const schemas::product_event& event);

}  // namespace cqrs::commands::product
