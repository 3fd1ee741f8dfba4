#pragma once

// What a domain hands the contracts catalog: its stored events (every readable type and version),
// its upcasters, and how to print one of its stored events. Plain function pointers, so a domain
// registers with one call that builds nothing and the catalog walks every domain the same way.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "core/upcasting.hpp"

namespace cqrs::schemas {

struct domain_contracts {
  std::string_view name;  // the name of the domain's folder under schemas/contracts/

  // Every (event type, schema version) the domain reads, older versions included.
  std::vector<std::pair<std::string, int>> (*event_versions)();
  // Registers the domain's byte-level upcasting steps with the event store's registry.
  void (*register_upcasters)(core::upcaster_registry& registry);
  // Whether (type, version) is one of the domain's stored events.
  bool (*knows_event)(std::string_view type, int schema_version);
  // The stored payload decoded, upcast and printed as {"type", "schema_version", "data"}.
  // Only called for what knows_event accepts; throws contract_error on unreadable bytes.
  boost::json::object (*stored_event_to_json)(std::string_view type, int schema_version, std::string_view data);
};

}  // namespace cqrs::schemas
