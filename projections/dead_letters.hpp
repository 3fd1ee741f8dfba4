#pragma once

// Poison events: an event whose handler keeps failing is recorded in projection_dead_letters
// with its error and position, and skipped so the projection goes on. `cqrs dead-letters retry`
// applies it again (from the event store) once the cause is fixed; `discard` closes it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_store.hpp"
#include "core/pg_connection.hpp"
#include "projections/target.hpp"

namespace cqrs::projections {

struct dead_letter {
  std::int64_t id = 0;
  std::string projection;
  std::string stream_id;
  std::int64_t stream_version = 0;
  std::string log_position;
  std::string event_type;
  std::string error;
  int attempts = 0;
  std::string status;  // open, retried, discarded
  std::string recorded_at;
};

enum class retry_outcome { applied, not_found, not_open, still_failing };

class dead_letter_store {
 public:
  explicit dead_letter_store(std::string url);

  void record(const std::string& projection, const core::recorded_event& event, const std::string& error, int attempts);
  std::vector<dead_letter> list(const std::optional<std::string>& projection, bool open_only);
  std::optional<dead_letter> find(std::int64_t id);
  // open -> discarded; false when the letter is not open.
  bool discard(std::int64_t id);
  // Re-reads the event from the store and applies it to `target`'s live model; `error` receives
  // the handler's message when it still fails.
  retry_outcome retry(std::int64_t id, projection_target& target, core::event_store& store, std::string& error);

 private:
  bool set_status(std::int64_t id, std::string_view status);

  core::pg_connection connection_;
};

}  // namespace cqrs::projections
