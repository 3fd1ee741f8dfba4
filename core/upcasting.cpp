#include "core/upcasting.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace cqrs::core {

void upcaster_registry::add(std::string event_type, int from_version, upcast_step step) {
  if (event_type.empty() || from_version < 1 || !step) {
    throw std::invalid_argument("an upcast step needs an event type, a version >= 1 and a function");
  }
  auto& by_version = steps_[event_type];
  if (!by_version.emplace(from_version, std::move(step)).second) {
    throw std::invalid_argument(fmt::format("upcast step {} v{} registered twice", event_type, from_version));
  }
}

int upcaster_registry::upcast(std::string_view event_type, int schema_version, std::string& payload) const {
  for (const upcast_step* step; (step = find(event_type, schema_version)) != nullptr; ++schema_version) {
    payload = (*step)(payload);
  }
  return schema_version;
}

int upcaster_registry::current_version(std::string_view event_type, int schema_version) const {
  while (find(event_type, schema_version) != nullptr) ++schema_version;
  return schema_version;
}

const upcast_step* upcaster_registry::find(std::string_view event_type, int from_version) const {
  const auto type = steps_.find(event_type);
  if (type == steps_.end()) return nullptr;
  const auto step = type->second.find(from_version);
  return step == type->second.end() ? nullptr : &step->second;
}

}  // namespace cqrs::core
