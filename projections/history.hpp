#pragma once

// Reading stored history for people and tools (`cqrs replay`, `cqrs state`): timestamps in
// ISO 8601 UTC and events as JSON objects with their decoded, upcast data.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/events.hpp"

namespace cqrs::projections {

// `YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+00:00)` or a bare date `YYYY-MM-DD` (midnight UTC); nothing
// when the text is anything else.
std::optional<core::timestamp> parse_timestamp(std::string_view text);
// `YYYY-MM-DDTHH:MM:SS.ffffffZ`
std::string format_timestamp(core::timestamp at);

// {"position", "stream", "version", "event_id", "type", "schema_version", "recorded_at",
//  "metadata", "data"}; an event whose payload cannot be decoded gets "data": null and "error".
boost::json::object event_to_json(const core::recorded_event& event);

}  // namespace cqrs::projections
