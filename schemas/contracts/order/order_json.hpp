#pragma once

// Order contracts as Boost.JSON values, field names as stored (money as
// {"amount_minor", "currency"}). For logs, the replay tool and `cqrs state`.

#include <boost/json/object.hpp>

#include "schemas/contracts/order/order_commands.hpp"
#include "schemas/contracts/order/order_events.hpp"

namespace cqrs::schemas {

// {"type": "...", "schema_version": N, "data": {...}}: a contract with its identity.
boost::json::object to_json(const order_event& event);
boost::json::object to_json(const order_command& command);

}  // namespace cqrs::schemas
