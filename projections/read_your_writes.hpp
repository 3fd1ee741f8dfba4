#pragma once

// Read-your-writes: whether a projection has applied every event at or before a log position.
//
// True when (1) the relay has published through the position (its checkpoint, saved after Kafka
// acknowledged, is at or past it), and (2) each of the topic's partitions either applied an event
// at or past the position (a partition carries events in log order) or was caught up, after the
// relay's checkpoint time, with everything Kafka had acknowledged (an idle partition holds
// nothing unapplied at or before the position and must not stall the answer). Both times come
// from PostgreSQL's clock, so no clocks are compared across machines.

#include <string>

#include "core/log_position.hpp"

namespace pqxx {
class transaction_base;
}

namespace cqrs::projections {

struct read_your_writes_source {
  std::string projection;
  std::string relay_name = "main";
  std::string topic = "events";
  int partitions = 0;  // the topic's partition count
};

bool has_applied_through(pqxx::transaction_base& tx, const read_your_writes_source& source,
                         core::log_position position);

}  // namespace cqrs::projections
