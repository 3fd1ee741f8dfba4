#pragma once

// User contracts as Boost.JSON values, field names as stored. Sealed fields appear as the
// ciphertext they are: this shape is for logs and the replay tool, which must never show
// personal data in clear.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include "schemas/contracts/user/user_commands.hpp"
#include "schemas/contracts/user/user_events.hpp"

namespace cqrs::schemas {

// {"type": "...", "schema_version": N, "data": {...}}: a contract with its identity.
boost::json::object to_json(const user_event& event);
boost::json::object to_json(const user_command& command);

}  // namespace cqrs::schemas
