#pragma once

// The Payment domain's entry in the list of aggregates (commands/domains.cpp), and the shape of its
// state as tools print it.

#include <boost/json/object.hpp>

#include "commands/aggregate_registry.hpp"
#include "commands/payment/payment_state.hpp"

namespace cqrs::commands::payment {

void register_aggregates(aggregate_registry& registry);

// The state as `cqrs state` prints it (money as {"amount_minor", "currency"}; no card token).
boost::json::object to_json(const payment_state& state);

}  // namespace cqrs::commands::payment
