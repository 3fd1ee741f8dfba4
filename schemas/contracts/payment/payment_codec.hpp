#pragma once

// Stored form of the Payment contracts. Encoding always writes the current schema version; decoding
// accepts every registered version (all are version 1 so far). Unknown types or versions and
// unreadable bytes throw contract_error.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/upcasting.hpp"
#include "schemas/contracts/encoded_payload.hpp"
#include "schemas/contracts/payment/payment_commands.hpp"
#include "schemas/contracts/payment/payment_events.hpp"

namespace cqrs::schemas {

encoded_payload encode(const payment_event& event);
payment_event decode_payment_event(std::string_view type, int schema_version, std::string_view data);
bool is_payment_event(std::string_view type, int schema_version);
std::vector<std::pair<std::string, int>> payment_event_versions();
// No older versions yet: registers nothing, kept so the domain registers like every other.
void register_payment_upcasters(core::upcaster_registry& registry);

encoded_payload encode(const payment_command& command);
payment_command decode_payment_command(std::string_view type, int schema_version, std::string_view data);

}  // namespace cqrs::schemas
