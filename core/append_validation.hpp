#pragma once

// Input checks of the event store, done before anything is sent: bad input is an error value and
// nothing is written. The limits are abuse limits as much as sanity checks (a 1 GiB payload must
// not reach PostgreSQL, nor an unbounded read batch).

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/errors.hpp"
#include "core/events.hpp"

namespace cqrs::core {

struct store_limits {
  std::size_t max_payload_bytes = std::size_t{1} << 20;  // one event's payload, and a command outcome
  std::size_t max_events_per_append = 1000;
  std::size_t max_append_bytes = std::size_t{16} << 20;    // all payloads of one append together
  std::size_t max_snapshot_bytes = std::size_t{16} << 20;
  std::size_t max_text_length = 200;                       // event types, metadata values, keys
  std::size_t max_batch = 10000;                           // events per read batch
};

// `[A-Za-z][A-Za-z0-9_.:-]*`, at most max_text_length characters.
std::optional<error> check_event_type(std::string_view type, const store_limits& limits);

// 1 to max_batch events.
std::optional<error> check_batch_size(std::size_t batch, const store_limits& limits);

// A command outcome stored on its own (event_store::record_outcome): key, fingerprint, size.
std::optional<error> check_outcome(const command_outcome_write& outcome, const store_limits& limits);

// Everything about an append except the stream id, which is valid by construction.
std::optional<error> check_append(const append_request& request, const store_limits& limits);

}  // namespace cqrs::core
