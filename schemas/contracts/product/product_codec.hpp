#pragma once

// Stored form of the Product contracts. Encoding always writes the current schema version;
// decoding accepts every registered version and upcasts older ones, so callers only ever see
// current shapes. Unknown types or versions and unreadable bytes throw contract_error.

#include <string_view>
#include <utility>
#include <vector>

#include "core/upcasting.hpp"
#include "schemas/contracts/encoded_payload.hpp"
#include "schemas/contracts/product/product_commands.hpp"
#include "schemas/contracts/product/product_events.hpp"

namespace cqrs::schemas {

encoded_payload encode(const product_event& event);
product_event decode_product_event(std::string_view type, int schema_version, std::string_view data);
bool is_product_event(std::string_view type, int schema_version);
// Every (type, schema version) that decode_product_event reads, older versions included.
std::vector<std::pair<std::string, int>> product_event_versions();

// Registers the byte-level steps (v1 -> v2, ...) with the event store's registry, so that reads
// through the store already return current versions.
void register_product_upcasters(core::upcaster_registry& registry);

encoded_payload encode(const product_command& command);
product_command decode_product_command(std::string_view type, int schema_version, std::string_view data);

// Any single contract type (current version), e.g. to store a historical version in tests.
template <typename T>
encoded_payload encode_one(const T& contract);

}  // namespace cqrs::schemas
