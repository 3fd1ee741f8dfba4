#pragma once

// Publishes stored events to the events topic exactly as the relay does (key, value, headers of
// commands/relay/message_format.hpp), so projector tests do not depend on a running relay.

#include <string>
#include <vector>

#include "core/events.hpp"

namespace cqrs::tests {

void publish(const std::vector<core::recorded_event>& events);
std::string events_topic();

}  // namespace cqrs::tests
