#pragma once

// Stored form of the Order contracts. Encoding always writes the current schema version; decoding
// accepts every registered version (all are version 1 so far). Unknown types or versions and
// unreadable bytes throw contract_error.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/upcasting.hpp"
#include "schemas/contracts/encoded_payload.hpp"
#include "schemas/contracts/order/order_commands.hpp"
#include "schemas/contracts/order/order_events.hpp"

namespace cqrs::schemas {

encoded_payload encode(const order_event& event);
order_event decode_order_event(std::string_view type, int schema_version, std::string_view data);
bool is_order_event(std::string_view type, int schema_version);
std::vector<std::pair<std::string, int>> order_event_versions();
// No older versions yet: registers nothing, kept so the domain registers like every other.
void register_order_upcasters(core::upcaster_registry& registry);

encoded_payload encode(const order_command& command);
order_command decode_order_command(std::string_view type, int schema_version, std::string_view data);

}  // namespace cqrs::schemas
