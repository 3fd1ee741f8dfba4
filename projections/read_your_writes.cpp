#include "projections/read_your_writes.hpp"

#include <string>
#include <utility>

#include <pqxx/pqxx>

namespace cqrs::projections {

namespace {

// The first mark at or past the position is the moment the relay had first published through it
// (marks only move forward; a checkpoint moved back deletes the marks beyond it). A partition
// caught up at or after that moment held nothing unapplied at or before the position then, and
// both its log position and caught_up_as_of only grow: passed once, passed for good. No mark at
// or past the position: the relay has not published through it, nothing counts.
constexpr const char* through_sql =
    "WITH reached AS (SELECT marked_at FROM relay_progress_marks WHERE relay_name = $2 AND topic = $3 "
    "  AND (xid, seq) >= ($4::text::xid8, $5) ORDER BY xid, seq LIMIT 1) "
    "SELECT count(*) FROM projection_checkpoints c, reached r WHERE c.projection = $1 "
    "  AND (c.log_position >= $6 OR c.caught_up_as_of >= r.marked_at)";

// Why "the highest version of the stream among its events at or before P" is the version to
// wait for, although stream versions and log positions are not in the same order:
//
// - Log order is (xid, seq), and xids are handed out when a transaction first writes, not when it
//   commits. Transaction A (xid 99) may take its xid, stall, and append v6 of a stream only after
//   B (xid 100) appended v5 and committed (A's first try at v5 met B's row in the unique
//   (stream_id, stream_version) index, waited, and took the next version). In log order v6 then
//   comes before v5. So "the events of the stream at or before P" need not be a prefix of its
//   versions, and neither "the stream's current version" nor "how many of its events lie at or
//   before P" is the answer.
// - Models apply a stream in version order (a gap is filled from the store first), so "applied
//   through version w" means every version up to w. Every event of the stream at or before P is
//   therefore applied exactly when the applied version reaches the highest version among them.
//   Waiting for that may also wait for lower versions lying after P (v5 above): those are
//   committed already (a version is only taken once every lower one committed), so the wait only
//   ever asks for events that exist.
// - The events counted are those committed when the statement runs (its snapshot): P's own
//   command committed before it answered, so P's events are among them, and so is every event
//   committed before the read. A transaction still open with an xid below P's may later add an
//   event of the stream before P (A above, before it commits): nobody can have seen that event
//   yet, so a read need not wait for it, and a later read with the same P will (it is counted
//   once committed). Waiting for every such transaction instead (a snapshot xmin above P's xid,
//   the relay's condition) would let any long write transaction elsewhere in the log hold back
//   every min_position read of every stream.
constexpr const char* version_at_sql =
    "SELECT coalesce((SELECT stream_version FROM events WHERE stream_id = $1 "
    "  AND (xid, seq) <= ($2::text::xid8, $3) ORDER BY stream_version DESC LIMIT 1), 0)";

// The live model of the projection, joined in the same statement as its version row, as readers
// of the model join it: a rebuild's switch never shows a version of another model.
constexpr const char* applied_sql =
    "SELECT coalesce((SELECT v.version FROM projection_stream_versions v "
    "  JOIN projection_live_models l ON l.model = v.model WHERE l.projection = $1 AND v.stream_id = $2), 0)";

// Each check runs as a prepared statement of its connection: a read under min_position runs one
// or more of them, and planning one costs more than running it. prepare() only records the
// definition (again: a no-op); the statement reaches the server on its first use on a connection,
// so a reconnected one prepares it again by itself.
template <typename... Args>
pqxx::row run_prepared(pqxx::transaction_base& tx, const char* name, const char* sql, Args&&... args) {
  tx.conn().prepare(name, sql);
  return tx.exec_prepared1(name, std::forward<Args>(args)...);
}

}  // namespace

bool has_applied_through(pqxx::transaction_base& tx, const read_your_writes_source& source,
                         core::log_position position) {
  const auto row = run_prepared(tx, "cqrs_ryw_through", through_sql, source.projection, source.relay_name,
                                source.topic, std::to_string(position.xid()),
                                static_cast<std::int64_t>(position.seq()), position.token());
  return source.partitions > 0 && row[0].as<int>() >= source.partitions;
}

std::int64_t stream_version_at(pqxx::transaction_base& tx, const core::stream_id& stream,
                               core::log_position position) {
  return run_prepared(tx, "cqrs_ryw_version_at", version_at_sql, stream.str(), std::to_string(position.xid()),
                      static_cast<std::int64_t>(position.seq()))[0]
      .as<std::int64_t>();
}

bool has_applied_stream(pqxx::transaction_base& tx, const std::string& projection, const core::stream_id& stream,
                        std::int64_t version) {
  return run_prepared(tx, "cqrs_ryw_applied", applied_sql, projection, stream.str())[0].as<std::int64_t>() >= version;
}

}  // namespace cqrs::projections
