#pragma once

// The event store's vocabulary: what an append takes and returns, what a read yields.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "core/log_position.hpp"
#include "core/strong_types.hpp"

namespace cqrs::core {

// Times at PostgreSQL's resolution.
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// What the writer expects of the stream; a mismatch is a version_conflict and writes nothing.
class expected_version {
 public:
  enum class form { any, no_stream, stream_exists, exact };

  static constexpr expected_version any() { return expected_version(form::any, stream_version{}); }
  static constexpr expected_version no_stream() { return expected_version(form::no_stream, stream_version{}); }
  static constexpr expected_version stream_exists() { return expected_version(form::stream_exists, stream_version{}); }
  // exact(0) means the stream must not exist yet, and is the same as no_stream().
  static constexpr expected_version exact(stream_version version) {
    return version.value() == 0 ? no_stream() : expected_version(form::exact, version);
  }

  // "any", "no_stream", "stream_exists" or a non-negative decimal integer.
  static result<expected_version> parse(std::string_view text);

  constexpr form kind() const { return kind_; }
  constexpr stream_version version() const { return version_; }
  std::string to_string() const;

  constexpr bool operator==(const expected_version&) const = default;

 private:
  constexpr expected_version(form kind, stream_version version) : kind_(kind), version_(version) {}

  form kind_;
  stream_version version_;
};

struct event_metadata {
  std::optional<std::string> command_id{};
  std::optional<std::string> correlation_id{};
  std::optional<std::string> causation_id{};
  std::optional<std::string> actor{};
};

struct new_event {
  std::string type{};
  int schema_version = 1;
  std::string payload{};         // opaque bytes, in practice a cereal archive
  std::optional<event_id> id{};  // generated when absent
};

// A snapshot of the stream's state at the version the append reaches.
struct snapshot_write {
  int schema_version = 1;
  std::string state{};
};

// The outcome of the command that produced the append, by its idempotency key.
struct command_outcome_write {
  std::string idempotency_key{};
  std::string command_fingerprint{};  // e.g. a hash of the command, to detect a key reused for another command
  std::string outcome{};              // opaque bytes
};

struct append_request {
  stream_id stream;
  expected_version expected = expected_version::any();
  std::vector<new_event> events{};
  event_metadata metadata{};
  std::optional<snapshot_write> snapshot{};
  std::optional<command_outcome_write> outcome{};
};

struct append_success {
  stream_version version{};               // the stream's version after the append
  std::vector<log_position> positions{};  // one per event, in stream order
  std::vector<event_id> event_ids{};      // one per event, in stream order

  log_position last_position() const { return positions.back(); }
};

struct recorded_event {
  log_position position{};
  stream_id stream;
  stream_version version{};
  event_id id;
  std::string type{};
  int schema_version = 1;  // after upcasting: the current version of the type
  std::string payload{};
  event_metadata metadata{};
  timestamp recorded_at{};
};

struct log_batch {
  std::vector<recorded_event> events{};
  log_position next{};  // pass as `after` to read on: the last event's position, or `after` if empty
};

struct stream_batch {
  std::vector<recorded_event> events{};
  stream_version next{};  // pass as `from` to read on: one past the last version, or `from` if empty
};

struct snapshot {
  stream_id stream;
  stream_version version{};
  int schema_version = 1;
  std::string state{};
};

struct command_outcome {
  std::string idempotency_key{};
  std::string command_fingerprint{};
  std::string outcome{};
  std::optional<stream_id> stream{};
  std::optional<stream_version> version{};
  std::optional<log_position> position{};  // the command's last event
};

// How far readers of the global log are held back by open write transactions.
struct xmin_lag {
  double oldest_writer_age_seconds = 0;  // age of the oldest open transaction holding an xid
  std::uint64_t transactions_behind = 0; // xids between the readers' horizon and the newest
};

}  // namespace cqrs::core
