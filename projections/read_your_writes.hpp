#pragma once

// Read-your-writes: whether a read model has applied every event at or before a log position
// (a `min_position` a command answered). Two questions, for two kinds of read:
//
// **A read of one stream** needs only that stream's progress: stream_version_at() gives the
// stream's version at the position, and the model must have applied the stream through it
// (has_applied_stream() for a PostgreSQL model; a Redis model whose value carries its version,
// as the product hash does, is checked by the reader itself). No partition, relay or other
// stream is involved, so no write elsewhere in the log can delay the answer.
//
// **A read across streams** (search) needs every partition of the topic: has_applied_through().
// A partition has passed the position when its checkpoint's log position is at or past it (a
// partition carries its events in log order), or when it was caught up with everything Kafka had
// acknowledged at a moment at or after the relay had first published through the position (a
// mark in relay_progress_marks, migration 0040). That moment is fixed once the relay passes the
// position and `caught_up_as_of` only grows, so once passed a partition stays passed whatever is
// written later: a busy log cannot starve the answer. docs/projections.md has the argument.

#include <cstdint>
#include <string>

#include "core/ids.hpp"
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

// Cross-stream: every partition of the topic has passed `position` for the projection.
bool has_applied_through(pqxx::transaction_base& tx, const read_your_writes_source& source,
                         core::log_position position);

// The stream's version at `position`: the highest version among its committed events at or
// before the position in the global log (0 when none). read_your_writes.cpp says why.
std::int64_t stream_version_at(pqxx::transaction_base& tx, const core::stream_id& stream,
                               core::log_position position);

// Whether the live model of a PostgreSQL projection has applied `stream` through `version`
// (projection_stream_versions, written in the same transaction as the model's change).
bool has_applied_stream(pqxx::transaction_base& tx, const std::string& projection, const core::stream_id& stream,
                        std::int64_t version);

}  // namespace cqrs::projections
