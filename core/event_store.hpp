#pragma once

// The event store on PostgreSQL: the engine's only source of truth (schema and reasoning in
// docs/event-store.md, schema in schemas/migrations/0001_event_store.sql).
//
// - append: all events or none, under an expected version; one round trip, one transaction (one
//   autocommit INSERT statement). A mismatch is a version_conflict value carrying the actual
//   version (read with a second query, on that path only). The unique (stream_id, stream_version)
//   index is the concurrency check: writers of one stream serialise on it; writers of different
//   streams never wait for each other.
// - read_all / read_category: the global log in (xid, seq) order, only below the readers' xmin
//   watermark, so that nothing can ever appear behind a reader. Batches by keyset: memory is one
//   batch whatever the history, and no transaction stays open between batches.
// - read_stream: one stream by version.
//
// One event_store per thread at a time: it owns one connection (libpqxx's thread rule). The store
// is cheap; open one per thread and share the upcaster registry and the commit notifier.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/append_validation.hpp"
#include "core/errors.hpp"
#include "core/events.hpp"
#include "core/pg_connection.hpp"

namespace pqxx {
class transaction_base;
}

namespace cqrs::core {

class commit_notifier;
class upcaster_registry;

struct store_options {
  std::string url;
  store_limits limits;
  retry_policy retry;
  const upcaster_registry* upcasters = nullptr;  // shared, read-only; must outlive the store
  commit_notifier* notifier = nullptr;           // shared; must outlive the store
};

class event_store {
 public:
  using log_handler = std::function<void(const log_batch&)>;
  using stream_handler = std::function<void(const stream_batch&)>;

  explicit event_store(store_options options);
  ~event_store();
  event_store(const event_store&) = delete;
  event_store& operator=(const event_store&) = delete;

  // Appends in its own transaction. Retries only what cannot have committed; a lost connection
  // during the call is a store_error of kind in_doubt (append again with the same event ids to
  // find out: a duplicate_event_id or a version_conflict says the first attempt landed).
  result<append_success> append(const append_request& request);
  result<append_success> append(const stream_id& stream, expected_version expected, std::vector<new_event> events,
                                event_metadata metadata = {});

  // Group commit (core/group_commit.hpp): the groupable requests, one per stream (a stream's
  // second request is left out), in one statement and one transaction. For each request, in
  // order: its success, or nullopt when the group did not write it (not groupable, invalid, the
  // stream's second, its expected version no longer holds, its version or event id taken); append
  // such a request alone to learn its answer. An idempotency key already stored fails the whole
  // statement; that and every other failure of the statement throws as append does.
  std::vector<std::optional<append_success>> append_group(const std::vector<const append_request*>& requests);
  // One event at an exact version (or no stream), no snapshot (a stored command outcome is fine):
  // the common command, and the shape append_group writes.
  static bool groupable(const append_request& request);

  // Appends to several streams atomically: one transaction, each request under its own expected
  // version, every event written or none. The answer is each request's success, in request order,
  // or the first refusal: a version_conflict (its `stream` names the stream, `actual_version` its
  // version), a duplicate event id or idempotency key, or invalid input (any request's, a stream
  // named twice, more than max_events_per_append events or max_append_bytes of payload in all);
  // then nothing is written. Streams are written in stream id order, so two calls over
  // overlapping streams wait for each other instead of deadlocking. Retried like append when
  // nothing can have committed; a connection lost during the commit is a store_error of kind
  // in_doubt (append again with the same event ids to find out). Wakes tailing readers on success.
  result<std::vector<append_success>> append_streams(const std::vector<append_request>& requests);

  // Appends inside the caller's transaction, on any connection: the caller commits (and notifies,
  // if it wants tailing readers woken). The append runs under a savepoint: a version_conflict,
  // duplicate_event_id or duplicate_idempotency_key writes nothing and leaves the caller's
  // transaction usable. No retries of failures here (only "any" / "stream exists" try again on a
  // taken version, as append does).
  result<append_success> append_in(pqxx::transaction_base& tx, const append_request& request);

  // One batch of the stream from version `from` (inclusive), at most `batch` events, optionally
  // only those recorded at or before `until`.
  result<stream_batch> read_stream(const stream_id& stream, stream_version from, std::size_t batch,
                                   std::optional<timestamp> until = std::nullopt);
  // One batch of the global log strictly after `after`.
  result<log_batch> read_all(log_position after, std::size_t batch, std::optional<timestamp> until = std::nullopt);
  // One batch of the category's events strictly after `after`, in global log order.
  result<log_batch> read_category(std::string_view category, log_position after, std::size_t batch,
                                  std::optional<timestamp> until = std::nullopt);

  // Batch after batch until caught up; returns where the next read starts. The handler runs
  // between batches, outside any transaction, and may throw to stop.
  result<stream_version> for_each_stream_batch(const stream_id& stream, stream_version from, std::size_t batch,
                                               const stream_handler& handler, std::optional<timestamp> until = std::nullopt);
  result<log_position> for_each_log_batch(std::optional<std::string_view> category, log_position after,
                                          std::size_t batch, const log_handler& handler,
                                          std::optional<timestamp> until = std::nullopt);

  // The bulk read: the category's events (every category when absent) strictly after `after`
  // and below the readers' watermark, in log order, from one snapshot and one COPY stream (no
  // keyset round trip per batch). The handler gets batches of at most `batch` events (memory:
  // one batch whatever the history) while the stream is open, so it must not use this store;
  // it may throw to stop (the connection is then dropped and reopened on next use). Returns
  // where a for_each_log_batch must continue (the last event's position, or `after`): events
  // that became visible meanwhile all lie after it. No retries: the handler has seen events.
  result<log_position> copy_log(std::optional<std::string_view> category, log_position after, std::size_t batch,
                                const log_handler& handler, std::optional<timestamp> until = std::nullopt);

  // 0 when the stream does not exist.
  stream_version current_version(const stream_id& stream);
  // The newest position readers can see now: everything up to it is final.
  log_position safe_head();
  // How far open write transactions hold the readers' watermark back (a metric).
  xmin_lag measure_xmin_lag();

  std::optional<snapshot> latest_snapshot(const stream_id& stream);
  std::optional<command_outcome> find_command_outcome(std::string_view idempotency_key);
  // Stores the outcome of a keyed command that appended nothing (refused, or it changed nothing)
  // under its key, with the stream and the version it was decided at, in its own statement: true
  // when stored, false when the key was already taken (read that outcome), an error value for bad
  // input. An accepted command's outcome is stored by its append, in the same statement.
  result<bool> record_outcome(const command_outcome_write& outcome, const stream_id& stream, stream_version decided_at);

  const store_limits& limits() const { return options_.limits; }
  // The store's connection, for work in explicit transactions (append_in). Same thread only.
  pg_connection& connection() { return connection_; }

 private:
  result<log_batch> read_log(std::optional<std::string_view> category, log_position after, std::size_t batch,
                             std::optional<timestamp> until);
  void upcast(std::vector<recorded_event>& events) const;
  template <typename T>
  T read_only(const std::function<T(pqxx::transaction_base&)>& query);

  store_options options_;
  pg_connection connection_;
};

}  // namespace cqrs::core
