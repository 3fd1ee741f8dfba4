#pragma once

// The event store's SQL: prepared statements, how requests become parameters and how rows become
// events. Internal to core/event_store.cpp; kept apart so that the store reads as its protocol.

#include <optional>
#include <string_view>
#include <vector>

#include "core/errors.hpp"
#include "core/events.hpp"

namespace pqxx {
class connection_base;
class transaction_base;
}  // namespace pqxx

namespace cqrs::core::detail {

struct log_query {
  std::optional<std::string> category;  // all categories when absent
  log_position after;
  std::size_t batch = 0;
  std::optional<timestamp> until;
};

struct stream_query {
  std::string stream;
  stream_version from;
  std::size_t batch = 0;
  std::optional<timestamp> until;
};

// Declares every statement on `connection`. Repeating it is harmless (same definitions).
void prepare_statements(pqxx::connection_base& connection);
// Declares only the append's statements, for transactions on connections the store did not open.
void prepare_append(pqxx::connection_base& connection);

// Appends `request` with the given event ids in one INSERT statement: the events, or a conflict
// carrying the actual version. "any" and "stream exists" try again (boundedly) when a concurrent
// writer took a version. In a transaction block (a dbtransaction) each attempt runs under a
// savepoint, so neither a conflict nor a duplicate aborts the caller's transaction.
result<append_success> exec_append(pqxx::transaction_base& tx, const append_request& request,
                                   const std::vector<event_id>& ids);

// The group commit's statement: one event each of distinct streams, exact or no-stream
// expectations (event_store::groupable), ids[i] for requests[i]. For each request its success, or
// nullopt when its row was not written (expectation failed, version or event id taken).
std::vector<std::optional<append_success>> exec_append_group(pqxx::transaction_base& tx,
                                                             const std::vector<const append_request*>& requests,
                                                             const std::vector<event_id>& ids);

// The error value for a unique violation that means "already there", if `failure` is one.
std::optional<error> as_duplicate(const store_error& failure);

// One batch in (xid, seq) order, only below the reader's xmin: never a gap behind it.
std::vector<recorded_event> exec_read_log(pqxx::transaction_base& tx, const log_query& query);
std::vector<recorded_event> exec_read_stream(pqxx::transaction_base& tx, const stream_query& query);

// The query event_store::copy_log wraps in COPY: the columns of decode_copy_line, in log order,
// below the statement's watermark. The category must be valid (is_valid_category): it is inlined.
std::string copy_log_sql(const log_query& query);
// One line of that COPY's text format into an event; throws std::runtime_error when malformed.
recorded_event decode_copy_line(std::string_view line);

stream_version exec_stream_version(pqxx::transaction_base& tx, std::string_view stream);
log_position exec_safe_head(pqxx::transaction_base& tx);
xmin_lag exec_xmin_lag(pqxx::transaction_base& tx);
std::optional<snapshot> exec_latest_snapshot(pqxx::transaction_base& tx, std::string_view stream);
std::optional<command_outcome> exec_find_outcome(pqxx::transaction_base& tx, std::string_view key);
// Inserts an outcome without events unless its key is taken; whether it was inserted.
bool exec_record_outcome(pqxx::transaction_base& tx, const command_outcome_write& outcome, const std::string& stream,
                         stream_version decided_at);

}  // namespace cqrs::core::detail
