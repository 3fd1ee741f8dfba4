#include "core/event_store_sql.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pqxx/binarystring>
#include <pqxx/connection_base>
#include <pqxx/dbtransaction>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction_base>
#include <stdexcept>

#include "core/pg_arrays.hpp"

namespace cqrs::core::detail {

namespace {

// The append is one plain prepared statement: no function call, no row per stream. The unique
// (stream_id, stream_version) index is the concurrency check: the events go at versions base + 1 ..
// base + n, and a version that a concurrent writer took raises a unique violation (after waiting
// for that writer's transaction, so writers of one stream serialise and writers of different
// streams never wait for each other). base is the expected version for "no stream" and exact
// expectations, which must see version base committed (EXISTS); for "any" and "stream exists" it
// is the stream's current max. No row back means the expectation does not hold.
// recorded_at is clock_timestamp(), taken after the statement's snapshot saw the previous version
// committed, so that within a stream recorded_at never decreases.
constexpr const char* insert_one_event =
    "INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, payload,"
    " command_id, correlation_id, causation_id, actor, recorded_at) ";
constexpr const char* one_event_values =
    "$3::uuid, $4::text, $5::integer, $6::bytea, $7::text, $8::text, $9::text, $10::text, clock_timestamp()";

// The hot path: one event at an exact version (or no stream, $2 = 0).
const std::string append_one_exact_sql = std::string(insert_one_event) + "SELECT $1::text, $2::bigint + 1, " +
                                         one_event_values +
                                         " WHERE $2::bigint = 0 OR EXISTS (SELECT 1 FROM events"
                                         " WHERE stream_id = $1::text AND stream_version = $2::bigint)"
                                         " RETURNING stream_version, xid, seq";

// One event after the stream's current max: any ($2 = -1) or stream exists ($2 = -2).
const std::string append_one_latest_sql =
    std::string(insert_one_event) + "SELECT $1::text, m.v + 1, " + one_event_values +
    " FROM (SELECT coalesce(max(stream_version), 0) AS v FROM events WHERE stream_id = $1::text) m"
    " WHERE $2::bigint = -1 OR m.v > 0 RETURNING stream_version, xid, seq";

// Everything else: several events, a snapshot, a command outcome, any expectation ($2: -1 any,
// -2 stream exists, 0 no stream, n exactly n). Payloads arrive concatenated in one binary bytea
// with their lengths, which spares the hex encoding of a bytea[] literal. The snapshot ($12 not
// NULL) and the outcome ($14 not NULL) are written only when the events are: one statement, all
// or nothing. libpqxx 6.4 cannot pass a NULL binary value, hence the companion parameters.
constexpr const char* append_sql =
    "WITH base AS ("
    "  SELECT CASE WHEN $2::bigint >= 0 THEN $2::bigint"
    "   ELSE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1::text) END AS v"
    "), checked AS ("
    "  SELECT v, clock_timestamp() AS at FROM base"
    "   WHERE CASE WHEN $2::bigint > 0 THEN EXISTS (SELECT 1 FROM events"
    "                WHERE stream_id = $1::text AND stream_version = $2::bigint)"
    "              WHEN $2::bigint = -2 THEN v > 0 ELSE true END"
    "), input AS ("
    "  SELECT t.i, t.len, (sum(t.len) OVER (ORDER BY t.i) - t.len)::integer AS off"
    "    FROM unnest($7::integer[]) WITH ORDINALITY AS t(len, i)"
    "), inserted AS ("
    "  INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, payload,"
    "                      command_id, correlation_id, causation_id, actor, recorded_at)"
    "  SELECT $1::text, c.v + input.i, ($5::uuid[])[input.i], ($3::text[])[input.i],"
    "         ($4::integer[])[input.i], substring($6::bytea FROM input.off + 1 FOR input.len),"
    "         $8::text, $9::text, $10::text, $11::text, c.at"
    "    FROM checked c, input ORDER BY input.i"
    "  RETURNING stream_version, xid, seq"
    "), snapshot AS ("
    "  INSERT INTO snapshots (stream_id, stream_version, schema_version, state)"
    "  SELECT $1::text, max(stream_version), $12::integer, $13::bytea FROM inserted"
    "  HAVING $12::integer IS NOT NULL AND count(*) > 0"
    "), outcome AS ("
    "  INSERT INTO command_outcomes (idempotency_key, command_fingerprint, outcome, stream_id,"
    "                                stream_version, xid, seq)"
    "  SELECT $14::text, $15::text, $16::bytea, $1::text, stream_version, xid, seq FROM inserted"
    "   WHERE $14::text IS NOT NULL ORDER BY stream_version DESC LIMIT 1"
    ") "
    "SELECT stream_version, xid, seq FROM inserted ORDER BY stream_version";

// The group commit (event_store::append_group): one event each of many streams (distinct, in
// stream order, so that two groups lock index entries in the same order and cannot deadlock), one
// statement and one commit. Each row is checked as in append_one_exact (base committed, or base 0
// and the unique index); a row whose check fails, or whose version or event id is taken, is
// skipped (ON CONFLICT DO NOTHING) and the others go in: every row is a whole append, so no
// request is ever half written. A request's command outcome (its idempotency key) goes in with
// its row only; a key that is already stored fails the whole statement (nothing written), and
// every request is then appended alone. The caller reads which ids came back. Two forms, so that
// a group without keys carries no outcome columns and no outcome CTE.
std::string append_group_sql(bool keyed) {
  const std::string key_columns = keyed ? ", $12::text[], $13::text[], $15::integer[]" : "";
  const std::string key_names = keyed ? ", idempotency_key, command_fingerprint, outcome_len" : "";
  const std::string key_offsets =
      keyed ? ", (sum(t.outcome_len) OVER (ORDER BY t.i) - t.outcome_len)::integer AS outcome_off" : "";
  std::string sql =
      "WITH input AS ("
      "  SELECT t.*, (sum(t.len) OVER (ORDER BY t.i) - t.len)::integer AS off" + key_offsets +
      "    FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::integer[], $6::integer[],"
      "                $8::text[], $9::text[], $10::text[], $11::text[]" + key_columns + ")"
      "         WITH ORDINALITY AS t(stream_id, base, event_id, event_type, schema_version, len,"
      "                              command_id, correlation_id, causation_id, actor" + key_names + ", i)"
      "), inserted AS ("
      "  INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, payload,"
      "                      command_id, correlation_id, causation_id, actor, recorded_at)"
      "  SELECT p.stream_id, p.base + 1, p.event_id, p.event_type, p.schema_version,"
      "         substring($7::bytea FROM p.off + 1 FOR p.len), p.command_id, p.correlation_id, p.causation_id,"
      "         p.actor, clock_timestamp()"
      "    FROM input p"
      "   WHERE p.base = 0 OR EXISTS (SELECT 1 FROM events e"
      "                                WHERE e.stream_id = p.stream_id AND e.stream_version = p.base)"
      "   ORDER BY p.i"
      "  ON CONFLICT DO NOTHING"
      "  RETURNING event_id, stream_id, stream_version, xid, seq"
      ")";
  if (keyed) {
    sql +=
        ", outcome AS ("
        "  INSERT INTO command_outcomes (idempotency_key, command_fingerprint, outcome, stream_id,"
        "                                stream_version, xid, seq)"
        "  SELECT p.idempotency_key, p.command_fingerprint,"
        "         substring($14::bytea FROM p.outcome_off + 1 FOR p.outcome_len), r.stream_id, r.stream_version,"
        "         r.xid, r.seq"
        "    FROM inserted r JOIN input p ON p.event_id = r.event_id"
        "   WHERE p.idempotency_key IS NOT NULL"
        ")";
  }
  return sql + " SELECT event_id::text, stream_version, xid, seq FROM inserted";
}

// "any" and "stream exists" retry on a taken version (nothing was written, so it is safe); each
// retry means another writer committed. Past this many the stream is too hot: a transient failure.
constexpr int max_append_attempts = 100;

constexpr std::string_view stream_version_key = "events_stream_version_key";

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

// A stream needs no watermark: version n + 1 is inserted only by a statement that saw version n
// committed (its EXISTS check or its max), so n + 1 never commits before n.
void prepare_stream_reads(pqxx::connection_base& c) {
  const std::string from = "stream_id = $1 AND stream_version >= $2";
  c.prepare("cqrs_read_stream", select_events(from, "stream_version"));
  c.prepare("cqrs_read_stream_until", select_events(from + until_parameter(4), "stream_version"));
}

// A backward scan of the unique (stream_id, stream_version) index.
constexpr const char* stream_version_sql =
    "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1";
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
// No position: nothing was appended. ON CONFLICT: a concurrent command with the key stored first.
constexpr const char* record_outcome_sql =
    "INSERT INTO command_outcomes (idempotency_key, command_fingerprint, outcome, stream_id, stream_version)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING";
constexpr const char* find_outcome_sql =
    "SELECT command_fingerprint, outcome, stream_id, stream_version, xid, seq FROM command_outcomes"
    " WHERE idempotency_key = $1";

// Positions in event_columns.
enum event_column : int { c_seq, c_xid, c_stream, c_version, c_id, c_type, c_schema, c_payload, c_command, c_correlation, c_causation, c_actor, c_recorded };

template <typename Get>
std::string column_literal(const std::vector<new_event>& events, Get get) {
  std::vector<std::string> items;
  items.reserve(events.size());
  for (const auto& event : events) items.push_back(get(event));
  return pg_array(items);
}

std::string ids_literal(const std::vector<event_id>& ids) {
  std::vector<std::string> items;
  items.reserve(ids.size());
  for (const auto& id : ids) items.push_back(id.to_string());
  return pg_array(items);
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

pqxx::result exec_append_many(pqxx::transaction_base& tx, const append_request& request,
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

bool is_exact_or_new(const expected_version& expected) {
  return expected.kind() == expected_version::form::exact || expected.kind() == expected_version::form::no_stream;
}

pqxx::result exec_append_one(pqxx::transaction_base& tx, const append_request& request, const event_id& id) {
  const auto& event = request.events.front();
  const auto& meta = request.metadata;
  return tx.exec_prepared(is_exact_or_new(request.expected) ? "cqrs_append_one_exact" : "cqrs_append_one_latest",
                          request.stream.str(), wire(request.expected), id.to_string(), event.type,
                          event.schema_version, pqxx::binarystring(event.payload), meta.command_id,
                          meta.correlation_id, meta.causation_id, meta.actor);
}

pqxx::result exec_append_statement(pqxx::transaction_base& tx, const append_request& request,
                                   const std::vector<event_id>& ids) {
  if (request.events.size() == 1 && !request.snapshot && !request.outcome) return exec_append_one(tx, request, ids.front());
  return exec_append_many(tx, request, ids);
}

// Whether the first line of a PostgreSQL error names `constraint` ("... violates unique constraint
// \"name\""; quoted in every message language). Only the first line: the DETAIL line after it
// quotes key values, which are the caller's data.
bool names_constraint(std::string_view message, std::string_view constraint) {
  const std::string quoted = fmt::format("\"{}\"", constraint);
  return message.substr(0, message.find('\n')).find(quoted) != std::string_view::npos;
}

bool is_taken_version(const pqxx::sql_error& failure) {
  return dynamic_cast<const pqxx::unique_violation*>(&failure) != nullptr &&
         names_constraint(failure.what(), stream_version_key);
}

// One attempt: the inserted rows (empty if the expectation did not hold), or nullopt if a
// concurrent writer took one of the versions. Either way nothing was written when no row is back.
// Inside a transaction block the attempt runs under a savepoint (sent by hand: libpqxx 6.4's
// subtransaction issues no SAVEPOINT before exec_prepared), so that a failed attempt rolls back
// only itself and the caller's transaction goes on.
std::optional<pqxx::result> try_append(pqxx::transaction_base& tx, const append_request& request,
                                       const std::vector<event_id>& ids) {
  const bool in_block = dynamic_cast<pqxx::dbtransaction*>(&tx) != nullptr;
  if (in_block) tx.exec("SAVEPOINT cqrs_append");
  try {
    auto rows = exec_append_statement(tx, request, ids);
    if (in_block) tx.exec("RELEASE SAVEPOINT cqrs_append");
    return rows;
  } catch (const pqxx::sql_error& failure) {
    if (in_block) tx.exec("ROLLBACK TO SAVEPOINT cqrs_append");
    if (is_taken_version(failure)) return std::nullopt;
    throw;
  }
}

bool accepts(const expected_version& expected, stream_version actual) {
  switch (expected.kind()) {
    case expected_version::form::any: return true;
    case expected_version::form::stream_exists: return actual.value() > 0;
    case expected_version::form::no_stream: return actual.value() == 0;
    case expected_version::form::exact: return actual == expected.version();
  }
  std::abort();
}

append_success success_of(const pqxx::result& rows, const std::vector<event_id>& ids) {
  append_success success{stream_version{rows[rows.size() - 1][0].as<std::int64_t>()}, {}, ids};
  for (const auto& row : rows) success.positions.push_back(position_of(row[1], row[2]));
  return success;
}

std::int64_t micros(const timestamp& t) { return t.time_since_epoch().count(); }

// COPY's text format (https://www.postgresql.org/docs/15/sql-copy.html): fields split by tabs,
// `\N` for NULL, backslash escapes for backslash and control characters.
struct copy_fields {
  std::array<std::string_view, c_recorded + 1> raw{};
};

copy_fields split_copy_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  copy_fields out;
  std::size_t field = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i < line.size() && line[i] != '\t') continue;
    if (field >= out.raw.size()) throw std::runtime_error("COPY line: too many fields");
    out.raw[field++] = line.substr(start, i - start);
    start = i + 1;
  }
  if (field != out.raw.size()) throw std::runtime_error("COPY line: too few fields");
  return out;
}

bool is_copy_null(std::string_view raw) { return raw == "\\N"; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string copy_text(std::string_view raw) {
  if (raw.find('\\') == std::string_view::npos) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out.push_back(raw[i]);
      continue;
    }
    const char c = raw[++i];
    switch (c) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': {
        int value = 0, n = 0;
        for (; n < 2 && i + 1 < raw.size() && hex_value(raw[i + 1]) >= 0; ++n) value = value * 16 + hex_value(raw[++i]);
        out.push_back(n == 0 ? 'x' : static_cast<char>(value));
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int value = c - '0';
          for (int n = 1; n < 3 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7'; ++n)
            value = value * 8 + (raw[++i] - '0');
          out.push_back(static_cast<char>(value));
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::optional<std::string> copy_text_or_null(std::string_view raw) {
  if (is_copy_null(raw)) return std::nullopt;
  return copy_text(raw);
}

// bytea in hex output format, its backslash escaped by COPY: `\\x` then two hex digits a byte.
std::string copy_bytea(std::string_view raw) {
  if (raw.substr(0, 3) != "\\\\x" || raw.size() % 2 != 1) throw std::runtime_error("COPY line: bytea not in hex format");
  std::string out(raw.size() / 2 - 1, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = hex_value(raw[3 + 2 * i]), low = hex_value(raw[4 + 2 * i]);
    if (high < 0 || low < 0) throw std::runtime_error("COPY line: bad hex in bytea");
    out[i] = static_cast<char>(high * 16 + low);
  }
  return out;
}

template <typename T>
T copy_number(std::string_view raw) {
  T value{};
  const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
  if (ec != std::errc{} || end != raw.data() + raw.size()) throw std::runtime_error("COPY line: bad number");
  return value;
}

}  // namespace

std::string copy_log_sql(const log_query& q) {
  std::string where = fmt::format("(xid, seq) > ('{}'::xid8, {}::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot())",
                                  q.after.xid(), static_cast<std::int64_t>(q.after.seq()));
  if (q.category) where = fmt::format("category = '{}' AND {}", *q.category, where);
  if (q.until) {
    where += fmt::format(" AND recorded_at <= timestamptz 'epoch' + {}::bigint * interval '1 microsecond'",
                         micros(*q.until));
  }
  return fmt::format("SELECT {} FROM events WHERE {} ORDER BY xid, seq", event_columns, where);
}

recorded_event decode_copy_line(std::string_view line) {
  const auto f = split_copy_line(line).raw;
  auto id = event_id::parse(f[c_id]);
  if (!id.ok()) throw std::runtime_error("COPY line: bad event id");
  return recorded_event{
      .position = log_position{copy_number<std::uint64_t>(f[c_xid]), copy_number<std::uint64_t>(f[c_seq])},
      .stream = stream_id::trusted(copy_text(f[c_stream])),
      .version = stream_version{copy_number<std::int64_t>(f[c_version])},
      .id = id.value(),
      .type = copy_text(f[c_type]),
      .schema_version = copy_number<int>(f[c_schema]),
      .payload = copy_bytea(f[c_payload]),
      .metadata = {copy_text_or_null(f[c_command]), copy_text_or_null(f[c_correlation]),
                   copy_text_or_null(f[c_causation]), copy_text_or_null(f[c_actor])},
      .recorded_at = timestamp{std::chrono::microseconds{copy_number<std::int64_t>(f[c_recorded])}},
  };
}

void prepare_append(pqxx::connection_base& connection) {
  connection.prepare("cqrs_append_one_exact", append_one_exact_sql);
  connection.prepare("cqrs_append_one_latest", append_one_latest_sql);
  connection.prepare("cqrs_append", append_sql);
  connection.prepare("cqrs_append_group", append_group_sql(false));
  connection.prepare("cqrs_append_group_keyed", append_group_sql(true));
  connection.prepare("cqrs_stream_version", stream_version_sql);
}

namespace {

// Every statement of the store finds its rows through an index on its own key (a stream, a log
// position, an idempotency key), so the best plan does not depend on the parameters' values.
// PostgreSQL's default (plan_cache_mode=auto) nevertheless plans several of them afresh on every
// execution: a custom plan of a one-element array or of a narrow position range is estimated
// cheaper than the generic plan, so the generic one is never adopted. Planning was ~10 % of the
// gateway's backends' CPU and ~30 % of the relay's at 2,000 commands/s (docs/BENCHMARKS.md).
// Set for the session: these connections run nothing but the store's statements.
void use_generic_plans(pqxx::connection_base& connection) {
  pqxx::nontransaction tx(connection);
  tx.exec("SET plan_cache_mode = force_generic_plan");
}

}  // namespace

void prepare_statements(pqxx::connection_base& connection) {
  use_generic_plans(connection);
  prepare_append(connection);
  prepare_log_reads(connection);
  prepare_stream_reads(connection);
  connection.prepare("cqrs_safe_head", safe_head_sql);
  connection.prepare("cqrs_xmin_lag", xmin_lag_sql);
  connection.prepare("cqrs_latest_snapshot", latest_snapshot_sql);
  connection.prepare("cqrs_find_outcome", find_outcome_sql);
  connection.prepare("cqrs_record_outcome", record_outcome_sql);
}

result<append_success> exec_append(pqxx::transaction_base& tx, const append_request& request,
                                   const std::vector<event_id>& ids) {
  for (int attempt = 1; attempt <= max_append_attempts; ++attempt) {
    const auto rows = try_append(tx, request, ids);
    if (rows && !rows->empty()) return success_of(*rows, ids);
    // Nothing was written. The actual version explains why, unless the stream moved meanwhile so
    // that it now meets the expectation: then try again, so a reported version always conflicts.
    // (After a taken version it is at least that version, committed: the unique check waited.)
    const stream_version actual = exec_stream_version(tx, request.stream.str());
    if (!accepts(request.expected, actual)) {
      return error{errc::version_conflict,
                   fmt::format("stream {} is at version {}, expected {}", request.stream.str(), actual.value(),
                               request.expected.to_string()),
                   actual, request.stream.str()};
    }
  }
  throw store_error(failure_kind::transient,
                    fmt::format("stream {} kept moving: no append after {} attempts", request.stream.str(),
                                max_append_attempts),
                    "40001", "cqrs_append");
}

std::vector<std::optional<append_success>> exec_append_group(pqxx::transaction_base& tx,
                                                             const std::vector<const append_request*>& requests,
                                                             const std::vector<event_id>& ids) {
  std::vector<std::string> streams, types, id_texts, schema_versions, lengths;
  std::vector<std::int64_t> bases;
  std::vector<std::optional<std::string>> commands, correlations, causations, actors, keys, fingerprints;
  std::vector<std::string> outcome_lengths;
  std::string payloads, outcomes;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& request = *requests[i];
    const auto& event = request.events.front();
    streams.push_back(request.stream.str());
    bases.push_back(wire(request.expected));
    id_texts.push_back(ids[i].to_string());
    types.push_back(event.type);
    schema_versions.push_back(std::to_string(event.schema_version));
    lengths.push_back(std::to_string(event.payload.size()));
    payloads += event.payload;
    commands.push_back(request.metadata.command_id);
    correlations.push_back(request.metadata.correlation_id);
    causations.push_back(request.metadata.causation_id);
    actors.push_back(request.metadata.actor);
    const auto& outcome = request.outcome;
    keys.push_back(outcome ? std::optional<std::string>(outcome->idempotency_key) : std::nullopt);
    fingerprints.push_back(outcome ? std::optional<std::string>(outcome->command_fingerprint) : std::nullopt);
    outcome_lengths.push_back(std::to_string(outcome ? outcome->outcome.size() : 0));
    if (outcome) outcomes += outcome->outcome;
  }
  const bool keyed = std::any_of(requests.begin(), requests.end(), [](const auto* r) { return r->outcome.has_value(); });
  const auto rows =
      keyed ? tx.exec_prepared("cqrs_append_group_keyed", pg_array(streams), pg_array(bases), pg_array(id_texts),
                               pg_array(types), int_array_literal(schema_versions), int_array_literal(lengths),
                               pqxx::binarystring(payloads), pg_array(commands), pg_array(correlations),
                               pg_array(causations), pg_array(actors), pg_array(keys), pg_array(fingerprints),
                               pqxx::binarystring(outcomes), int_array_literal(outcome_lengths))
            : tx.exec_prepared("cqrs_append_group", pg_array(streams), pg_array(bases), pg_array(id_texts),
                               pg_array(types), int_array_literal(schema_versions), int_array_literal(lengths),
                               pqxx::binarystring(payloads), pg_array(commands), pg_array(correlations),
                               pg_array(causations), pg_array(actors));
  std::vector<std::optional<append_success>> out(requests.size());
  for (const auto& row : rows) {
    const auto id = event_id::parse(row[0].c_str()).value();
    const auto it = std::find(ids.begin(), ids.end(), id);
    if (it == ids.end()) throw std::logic_error("the group append returned an event id it was not given");
    out[static_cast<std::size_t>(it - ids.begin())] =
        append_success{stream_version{row[1].as<std::int64_t>()}, {position_of(row[2], row[3])}, {id}};
  }
  return out;
}

std::optional<error> as_duplicate(const store_error& failure) {
  if (failure.sqlstate() != "23505") return std::nullopt;
  if (names_constraint(failure.what(), "events_event_id_key")) {
    return make_error(errc::duplicate_event_id, "an event with one of these ids is already stored");
  }
  if (names_constraint(failure.what(), "command_outcomes_pkey")) {
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
  return stream_version{tx.exec_prepared1("cqrs_stream_version", std::string(stream))[0].as<std::int64_t>()};
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

bool exec_record_outcome(pqxx::transaction_base& tx, const command_outcome_write& outcome, const std::string& stream,
                         stream_version decided_at) {
  const auto rows = tx.exec_prepared("cqrs_record_outcome", outcome.idempotency_key, outcome.command_fingerprint,
                                     pqxx::binarystring(outcome.outcome), stream, decided_at.value());
  return rows.affected_rows() == 1;
}

}  // namespace cqrs::core::detail
