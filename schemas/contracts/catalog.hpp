#pragma once

// The engine's contracts in one place, whatever domain they belong to. Tools that handle stored
// events generically (replay, inspection) go through here. A domain joins by one line in the list
// of catalog.cpp, which points at its `domain_contracts` (see domain_contracts.hpp).

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/upcasting.hpp"
#include "schemas/contracts/domain_contracts.hpp"

namespace cqrs::schemas {

// Every registered domain, in list order.
const std::vector<domain_contracts>& contract_domains();

struct contract_info {
  std::string domain;
  std::string name;
  int current_version = 0;
  std::vector<int> readable_versions;  // ascending; older ones are upcast on read
};

// Every event contract of every domain, by name.
std::vector<contract_info> event_contracts();

// Registers every upcaster of every domain with the event store's registry.
void register_upcasters(core::upcaster_registry& registry);

// A stored event's payload, decoded and upcast to the current version, as
// {"type": ..., "schema_version": <current>, "data": {...}}. Throws contract_error when the
// type or version is unknown or the bytes do not parse.
boost::json::object stored_event_to_json(std::string_view type, int schema_version, std::string_view data);

}  // namespace cqrs::schemas
