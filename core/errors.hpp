#pragma once

// The event store's two kinds of failure, kept apart on purpose:
//
// - Expected outcomes (a version conflict, invalid input) are values: `result<T>` holds either the
//   value or an `error` with an `errc`. Callers must look at them; nothing is thrown.
// - Broken infrastructure (PostgreSQL down, a commit whose outcome is unknown, a bug in a query)
//   is an exception, always `store_error`, one class with a `failure_kind` rather than a deep
//   hierarchy: callers decide on the kind (retry or not), never on the exception type.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/strong_types.hpp"

namespace cqrs::core {

enum class errc {
  version_conflict = 1,       // the stream's version contradicts the expected version
  invalid_stream_id,          // not `category-id`, or too long
  invalid_category,           // not `[A-Za-z][A-Za-z0-9_]*`
  empty_event_list,
  too_many_events,            // more events in one append than the configured limit
  invalid_event_type,         // empty, too long or with characters outside [A-Za-z0-9_.:-]
  invalid_schema_version,     // below 1
  invalid_event_id,           // not a UUID in 8-4-4-4-12 form
  payload_too_large,          // one payload (or a snapshot, an outcome) over its limit
  append_too_large,           // all payloads of one append together over the limit
  invalid_metadata,           // a metadata value too long or with control characters
  invalid_expected_version,   // text that is none of any, no_stream, stream_exists, n >= 0
  invalid_log_position,       // a token that is not 32 lowercase hex digits (or empty)
  invalid_batch_size,         // 0 or over the maximum
  invalid_idempotency_key,    // empty or too long
  duplicate_event_id,         // an event id already in the store: nothing was written
  duplicate_idempotency_key,  // a command outcome with this key exists: nothing was written
};

// A stable name for logs and protocol mappings ("version_conflict").
std::string_view to_string(errc code);

struct error {
  errc code;
  std::string detail;
  // Only for version_conflict: the stream's version when the append was refused (0: no stream).
  std::optional<stream_version> actual_version;
  // Only for version_conflict: the stream whose expected version did not hold (the one stream of
  // an append, or the one of several in append_streams).
  std::optional<std::string> stream{};
};

// Holds a value or an error. Reading the wrong side is a programming error (std::logic_error).
template <typename T>
class [[nodiscard]] result {
 public:
  result(T value) : state_(std::move(value)) {}           // NOLINT: implicit by design
  result(core::error failure) : state_(std::move(failure)) {}  // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return (expect(true), std::get<0>(state_)); }
  T& value() & { return (expect(true), std::get<0>(state_)); }
  T&& value() && { return (expect(true), std::get<0>(std::move(state_))); }
  const core::error& error() const { return (expect(false), std::get<1>(state_)); }
  errc code() const { return error().code; }

 private:
  void expect(bool want_value) const {
    if (ok() != want_value) throw std::logic_error(want_value ? "result holds an error" : "result holds a value");
  }

  std::variant<T, core::error> state_;
};

// Shorthand for building an error result.
inline error make_error(errc code, std::string detail) { return error{code, std::move(detail), std::nullopt}; }

// What went wrong with the infrastructure, by what the caller may do about it.
enum class failure_kind {
  connection,  // could not connect, or lost the connection where nothing can have been committed
  in_doubt,    // the connection broke while a commit may have happened: the outcome is unknown
  transient,   // serialization failure or deadlock: PostgreSQL rolled back, running again may work
  statement,   // the statement failed (constraint, syntax, permission): running again will not help
  unexpected,  // a library usage or conversion error: a bug on our side
};

std::string_view to_string(failure_kind kind);

// Safe to run the same work again: connection and transient failures. Never in_doubt: the first
// attempt may have committed, and running it again could write everything twice.
bool is_retryable(failure_kind kind);

class store_error : public std::runtime_error {
 public:
  store_error(failure_kind kind, const std::string& message, std::string sqlstate = {}, std::string query = {});

  failure_kind kind() const { return kind_; }
  // The SQLSTATE reported by PostgreSQL ("40001"), or empty when there was none.
  const std::string& sqlstate() const { return sqlstate_; }
  // The statement (or prepared statement name) that failed, or empty.
  const std::string& query() const { return query_; }
  bool retryable() const { return is_retryable(kind_); }

 private:
  failure_kind kind_;
  std::string sqlstate_;
  std::string query_;
};

// How much a failed piece of database work may have done; decides how a lost connection is read.
enum class statement_effect {
  none_on_failure,     // reads, and statements inside an explicit transaction not yet committing
  may_have_committed,  // an autocommit write: it commits as it completes, so a lost reply is in doubt
};

namespace detail {

// Turns the exception in `failure` into a store_error when it comes from libpqxx (or already is
// one); rethrows anything else unchanged, so that callers' own exceptions pass through.
store_error to_store_error(const std::exception_ptr& failure, statement_effect effect);

}  // namespace detail

}  // namespace cqrs::core
