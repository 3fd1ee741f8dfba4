#pragma once

// The Product domain's entry in the list of aggregates (commands/domains.cpp), and the human
// shape of its state.

#include <boost/json/object.hpp>

#include "commands/aggregate_registry.hpp"
#include "commands/product/product_state.hpp"

namespace cqrs::commands::product {

void register_aggregates(aggregate_registry& registry);

// The state as `cqrs state` prints it: every field, reservations by id, and `available`.
boost::json::object to_json(const product_state& state);

}  // namespace cqrs::commands::product
