#pragma once

// The engine's contracts in one place, whatever aggregate they belong to. Tools that handle
// stored events generically (replay, inspection) go through here, so a new aggregate's events
// become printable by adding them to catalog.cpp.

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/upcasting.hpp"

namespace cqrs::schemas {

struct contract_info {
  std::string name;
  int current_version = 0;
  std::vector<int> readable_versions;  // ascending; older ones are upcast on read
};

std::vector<contract_info> event_contracts();

// Registers every upcaster of every aggregate with the event store's registry.
void register_upcasters(core::upcaster_registry& registry);

// A stored event's payload, decoded and upcast to the current version, as
// {"type": ..., "schema_version": <current>, "data": {...}}. Throws contract_error when the
// type or version is unknown or the bytes do not parse.
boost::json::object stored_event_to_json(std::string_view type, int schema_version, std::string_view data);

}  // namespace cqrs::schemas
