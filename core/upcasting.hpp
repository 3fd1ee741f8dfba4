#pragma once

// Upcasting: events are stored under the schema version they were written with and read as the
// current version of their type. Each registered step turns version n of a type into version
// n + 1; reading applies steps until none is registered, so a v1 event passes through v2 to v3.
//
// Steps work on the opaque payload bytes (cereal archives in practice) and must be pure: they run
// on every read of an old event, on whatever thread reads it. Register all steps before sharing
// the registry; afterwards it is only read, which is safe from many threads.

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace cqrs::core {

// Returns the payload of version n + 1 given the payload of version n. May throw on a payload it
// cannot read; the exception reaches the reader unchanged (it is a bug or corrupt data).
using upcast_step = std::function<std::string(std::string_view payload)>;

class upcaster_registry {
 public:
  // Throws std::invalid_argument for an empty type, a version below 1 or a duplicate step.
  void add(std::string event_type, int from_version, upcast_step step);

  // Upcasts `payload` in place as far as steps go; returns the version it ends at.
  int upcast(std::string_view event_type, int schema_version, std::string& payload) const;

  // The version reads of `event_type` stored as `schema_version` end at.
  int current_version(std::string_view event_type, int schema_version) const;

 private:
  const upcast_step* find(std::string_view event_type, int from_version) const;

  std::map<std::string, std::map<int, upcast_step>, std::less<>> steps_;
};

}  // namespace cqrs::core
