#include "core/event_store_sql.hpp"

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pqxx/binarystring>
#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/transaction_base>

namespace cqrs::core::detail {

namespace {

// Binary bytea parameters need no escaping; a NULL snapshot or outcome is signalled by its
// companion parameter instead, since libpqxx 6.4 cannot pass a NULL binary value in the same call.
constexpr const char* append_sql =
    "SELECT o_status, o_version, o_xid, o_seq FROM cqrs_append_events("
    "$1::text, $2::bigint, $3::text[], $4::integer[], $5::uuid[], $6::bytea, $7::integer[], "
    "$8::text, $9::text, $10::text, $11::text, "
    "$12::integer, CASE WHEN $12 IS NULL THEN NULL ELSE $13::bytea END, "
    "$14::text, $15::text, CASE WHEN $14 IS NULL THEN NULL ELSE $16::bytea END)";

constexpr std::string_view event_columns =
    "seq, xid, stream_id, stream_version, event_id, event_type, schema_version, payload, command_id, "
    "correlation_id, causation_id, actor, (extract(epoch FROM recorded_at) * 1000000)::bigint";

// The watermark: every xid below the statement's own snapshot xmin is finished, so the rows below
// it are final, and (xid, seq) order makes each batch a pure extension of the previous one.
constexpr std::string_view after_position_below_xmin =
    "(xid, seq) > ($1::xid8, $2::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot())";

std::string until_parameter(int number) {
  return fmt::format(" AND recorded_at <= timestamptz 'epoch' + ${}::bigint * interval '1 microsecond'", number);
}

// $3 is always the batch size.
std::string select_events(std::string_view where, std::string_view order) {
  return fmt::format("SELECT {} FROM events WHERE {} ORDER BY {} LIMIT $3", event_columns, where, order);
}

void prepare_log_reads(pqxx::connection_base& c) {
  const std::string after(after_position_below_xmin);
  c.prepare("cqrs_read_all", select_events(after, "xid, seq"));
  c.prepare("cqrs_read_all_until", select_events(after + until_parameter(4), "xid, seq"));
  c.prepare("cqrs_read_category", select_events("category = $4 AND " + after, "xid, seq"));
  c.prepare("cqrs_read_category_until", select_events("category = $4 AND " + after + until_parameter(5), "xid, seq"));
}

// A stream needs no watermark: its row lock makes version n + 1 start after version n committed.
void prepare_stream_reads(pqxx::connection_base& c) {
  const std::string from = "stream_id = $1 AND stream_version >= $2";
  c.prepare("cqrs_read_stream", select_events(from, "stream_version"));
  c.prepare("cqrs_read_stream_until", select_events(from + until_parameter(4), "stream_version"));
}

constexpr const char* stream_version_sql = "SELECT version FROM streams WHERE stream_id = $1";
constexpr const char* safe_head_sql =
    "SELECT xid, seq FROM events WHERE xid < pg_snapshot_xmin(pg_current_snapshot())"
    " ORDER BY xid DESC, seq DESC LIMIT 1";
// pg_stat_activity shows other roles' xact_start only to privileged roles; without the privilege
// the age covers our own role's transactions (the xid distance is exact either way).
constexpr const char* xmin_lag_sql =
    "SELECT coalesce((SELECT extract(epoch FROM now() - min(xact_start)) FROM pg_stat_activity"
    " WHERE backend_xid IS NOT NULL), 0)::float8,"
    " (SELECT pg_snapshot_xmax(s)::text::bigint - pg_snapshot_xmin(s)::text::bigint FROM pg_current_snapshot() s)";
constexpr const char* latest_snapshot_sql =
    "SELECT stream_version, schema_version, state FROM snapshots WHERE stream_id = $1"
    " ORDER BY stream_version DESC LIMIT 1";
constexpr const char* find_outcome_sql =
    "SELECT command_fingerprint, outcome, stream_id, stream_version, xid, seq FROM command_outcomes"
    " WHERE idempotency_key = $1";

// Positions in event_columns.
enum event_column : int { c_seq, c_xid, c_stream, c_version, c_id, c_type, c_schema, c_payload, c_command, c_correlation, c_causation, c_actor, c_recorded };

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (char c : item) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

template <typename Get>
std::string column_literal(const std::vector<new_event>& events, Get get) {
  std::vector<std::string> items;
  items.reserve(events.size());
  for (const auto& event : events) items.push_back(get(event));
  return array_literal(items);
}

std::string ids_literal(const std::vector<event_id>& ids) {
  std::vector<std::string> items;
  items.reserve(ids.size());
  for (const auto& id : ids) items.push_back(id.to_string());
  return array_literal(items);
}

pqxx::binarystring concatenated_payloads(const std::vector<new_event>& events) {
  if (events.size() == 1) return pqxx::binarystring(events.front().payload);  // the common case: one copy
  std::string all;
  std::size_t total = 0;
  for (const auto& event : events) total += event.payload.size();
  all.reserve(total);
  for (const auto& event : events) all += event.payload;
  return pqxx::binarystring(all);
}

std::optional<std::string> text_or_null(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str(), f.size());
}

std::string bytes_of(const pqxx::field& f) {
  const pqxx::binarystring bytes(f);
  return std::string(bytes.get(), bytes.size());
}

// The function's encoding of expectations: -1 any, -2 stream exists, 0 no stream, n exactly n.
std::int64_t wire(const expected_version& expected) {
  switch (expected.kind()) {
    case expected_version::form::any: return -1;
    case expected_version::form::stream_exists: return -2;
    case expected_version::form::no_stream: return 0;
    case expected_version::form::exact: return expected.version().value();
  }
  std::abort();
}

std::vector<std::string> payload_lengths(const std::vector<new_event>& events) {
  std::vector<std::string> lengths;
  for (const auto& event : events) lengths.push_back(std::to_string(event.payload.size()));
  return lengths;
}

std::string int_array_literal(const std::vector<std::string>& numbers) {
  std::string out = "{";
  for (const auto& number : numbers) out += (out.size() > 1 ? "," : "") + number;
  return out + "}";
}

pqxx::result exec_append_statement(pqxx::transaction_base& tx, const append_request& request,
                                   const std::vector<event_id>& ids) {
  const auto& events = request.events;
  const auto& meta = request.metadata;
  const auto& snap = request.snapshot;
  const auto& outcome = request.outcome;
  std::vector<std::string> schema_versions;
  for (const auto& event : events) schema_versions.push_back(std::to_string(event.schema_version));
  return tx.exec_prepared(
      "cqrs_append", request.stream.str(), wire(request.expected),
      column_literal(events, [](const new_event& e) { return e.type; }), int_array_literal(schema_versions),
      ids_literal(ids), concatenated_payloads(events), int_array_literal(payload_lengths(events)), meta.command_id,
      meta.correlation_id, meta.causation_id, meta.actor,
      snap ? std::optional<int>(snap->schema_version) : std::nullopt, pqxx::binarystring(snap ? snap->state : std::string()),
      outcome ? std::optional<std::string>(outcome->idempotency_key) : std::nullopt,
      outcome ? std::optional<std::string>(outcome->command_fingerprint) : std::nullopt,
      pqxx::binarystring(outcome ? outcome->outcome : std::string()));
}

log_position position_of(const pqxx::field& xid, const pqxx::field& seq) {
  return log_position{xid.as<std::uint64_t>(), seq.as<std::uint64_t>()};
}

recorded_event decode_event(const pqxx::row& row) {
  return recorded_event{
      .position = position_of(row[c_xid], row[c_seq]),
      .stream = stream_id::trusted(row[c_stream].c_str()),
      .version = stream_version{row[c_version].as<std::int64_t>()},
      .id = event_id::parse(row[c_id].c_str()).value(),
      .type = row[c_type].c_str(),
      .schema_version = row[c_schema].as<int>(),
      .payload = bytes_of(row[c_payload]),
      .metadata = {text_or_null(row[c_command]), text_or_null(row[c_correlation]), text_or_null(row[c_causation]),
                   text_or_null(row[c_actor])},
      .recorded_at = timestamp{std::chrono::microseconds{row[c_recorded].as<std::int64_t>()}},
  };
}

std::vector<recorded_event> decode_events(const pqxx::result& rows) {
  std::vector<recorded_event> events;
  events.reserve(rows.size());
  for (const auto& row : rows) events.push_back(decode_event(row));
  return events;
}

std::int64_t micros(const timestamp& t) { return t.time_since_epoch().count(); }

}  // namespace

void prepare_append(pqxx::connection_base& connection) { connection.prepare("cqrs_append", append_sql); }

void prepare_statements(pqxx::connection_base& connection) {
  prepare_append(connection);
  prepare_log_reads(connection);
  prepare_stream_reads(connection);
  connection.prepare("cqrs_stream_version", stream_version_sql);
  connection.prepare("cqrs_safe_head", safe_head_sql);
  connection.prepare("cqrs_xmin_lag", xmin_lag_sql);
  connection.prepare("cqrs_latest_snapshot", latest_snapshot_sql);
  connection.prepare("cqrs_find_outcome", find_outcome_sql);
}

result<append_success> exec_append(pqxx::transaction_base& tx, const append_request& request,
                                   const std::vector<event_id>& ids) {
  const pqxx::result rows = exec_append_statement(tx, request, ids);
  if (rows.empty()) throw store_error(failure_kind::unexpected, "cqrs_append_events returned no row", "", "cqrs_append");
  if (rows.size() == 1 && rows[0][0].as<int>() == 1) {
    const stream_version actual{rows[0][1].as<std::int64_t>()};
    return error{errc::version_conflict,
                 fmt::format("stream {} is at version {}, expected {}", request.stream.str(), actual.value(),
                             request.expected.to_string()),
                 actual};
  }
  append_success success{stream_version{rows[rows.size() - 1][1].as<std::int64_t>()}, {}, ids};
  for (const auto& row : rows) success.positions.push_back(position_of(row[2], row[3]));
  return success;
}

std::optional<error> as_duplicate(const store_error& failure) {
  if (failure.sqlstate() != "23505") return std::nullopt;
  const std::string_view message = failure.what();
  if (message.find("events_event_id_key") != std::string_view::npos) {
    return make_error(errc::duplicate_event_id, "an event with one of these ids is already stored");
  }
  if (message.find("command_outcomes_pkey") != std::string_view::npos) {
    return make_error(errc::duplicate_idempotency_key, "a command outcome with this idempotency key is already stored");
  }
  return std::nullopt;
}

std::vector<recorded_event> exec_read_log(pqxx::transaction_base& tx, const log_query& q) {
  const auto xid = q.after.xid();
  const auto seq = static_cast<std::int64_t>(q.after.seq());
  const auto limit = static_cast<std::int64_t>(q.batch);
  if (q.category && q.until) return decode_events(tx.exec_prepared("cqrs_read_category_until", xid, seq, limit, *q.category, micros(*q.until)));
  if (q.category) return decode_events(tx.exec_prepared("cqrs_read_category", xid, seq, limit, *q.category));
  if (q.until) return decode_events(tx.exec_prepared("cqrs_read_all_until", xid, seq, limit, micros(*q.until)));
  return decode_events(tx.exec_prepared("cqrs_read_all", xid, seq, limit));
}

std::vector<recorded_event> exec_read_stream(pqxx::transaction_base& tx, const stream_query& q) {
  const auto limit = static_cast<std::int64_t>(q.batch);
  if (q.until) return decode_events(tx.exec_prepared("cqrs_read_stream_until", q.stream, q.from.value(), limit, micros(*q.until)));
  return decode_events(tx.exec_prepared("cqrs_read_stream", q.stream, q.from.value(), limit));
}

stream_version exec_stream_version(pqxx::transaction_base& tx, std::string_view stream) {
  const auto rows = tx.exec_prepared("cqrs_stream_version", std::string(stream));
  return stream_version{rows.empty() ? 0 : rows[0][0].as<std::int64_t>()};
}

log_position exec_safe_head(pqxx::transaction_base& tx) {
  const auto rows = tx.exec_prepared("cqrs_safe_head");
  return rows.empty() ? log_position{} : position_of(rows[0][0], rows[0][1]);
}

xmin_lag exec_xmin_lag(pqxx::transaction_base& tx) {
  const auto row = tx.exec_prepared1("cqrs_xmin_lag");
  return xmin_lag{row[0].as<double>(), row[1].as<std::uint64_t>()};
}

std::optional<snapshot> exec_latest_snapshot(pqxx::transaction_base& tx, std::string_view stream) {
  const auto rows = tx.exec_prepared("cqrs_latest_snapshot", std::string(stream));
  if (rows.empty()) return std::nullopt;
  return snapshot{stream_id::trusted(std::string(stream)), stream_version{rows[0][0].as<std::int64_t>()},
                  rows[0][1].as<int>(), bytes_of(rows[0][2])};
}

std::optional<command_outcome> exec_find_outcome(pqxx::transaction_base& tx, std::string_view key) {
  const auto rows = tx.exec_prepared("cqrs_find_outcome", std::string(key));
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  command_outcome found{std::string(key), row[0].c_str(), bytes_of(row[1]), std::nullopt, std::nullopt, std::nullopt};
  if (!row[2].is_null()) found.stream = stream_id::trusted(row[2].c_str());
  if (!row[3].is_null()) found.version = stream_version{row[3].as<std::int64_t>()};
  if (!row[4].is_null()) found.position = position_of(row[4], row[5]);
  return found;
}

}  // namespace cqrs::core::detail
