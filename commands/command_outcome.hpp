#pragma once

// What handling a command can come to. All of these are expected outcomes, hence values; only a
// broken infrastructure (PostgreSQL down, a commit in doubt) is an exception (core::store_error).

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "core/log_position.hpp"
#include "core/strong_types.hpp"

namespace cqrs::commands {

// The pipeline's own refusals (the aggregate's are its rejection type). Stable values and names:
// never renumber or rename, only add.
enum class errc {
  version_conflict = 1,        // the caller's If-Match no longer holds, or retries ran out
  idempotency_key_reused = 2,  // the key was first used with a different command
  invalid_request = 3,         // the store refused the input (metadata too long, ...)
};

std::string_view to_string(errc code);

// The command's events are stored (or it changed nothing: no events, `version` unchanged).
struct accepted {
  core::stream_version version;               // the stream's version after the command
  std::optional<core::log_position> position;  // the command's last event (none without events)
  std::vector<core::event_id> event_ids;        // one per event, in stream order
  bool replayed = false;  // the outcome of an earlier command with the same idempotency key
  int attempts = 1;       // decisions taken (more than one after concurrent writers interfered)
};

template <typename Rejection>
struct rejected {
  Rejection why;
  bool replayed = false;  // the stored outcome of an earlier command with the same idempotency key
};

struct version_conflict {
  core::stream_version actual;  // the stream's version when the command gave up
  // True when the caller's own expected version (If-Match) no longer held: retrying is pointless
  // until the caller has re-read. False when the pipeline's retries ran out on a hot stream.
  bool caller_expectation = false;
  int attempts = 1;
};

struct idempotency_key_reused {
  std::string key;
};

struct invalid_request {
  core::error why;
};

template <typename Rejection>
using command_outcome =
    std::variant<accepted, rejected<Rejection>, version_conflict, idempotency_key_reused, invalid_request>;

// The pipeline's code for an outcome that is not accepted and not the aggregate's rejection.
inline std::optional<errc> pipeline_code(const version_conflict&) { return errc::version_conflict; }
inline std::optional<errc> pipeline_code(const idempotency_key_reused&) { return errc::idempotency_key_reused; }
inline std::optional<errc> pipeline_code(const invalid_request&) { return errc::invalid_request; }

}  // namespace cqrs::commands
