#include "projections/read_your_writes.hpp"

#include <string>

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
//   versions.
// - Models apply a stream in version order (a gap is filled from the store first), so "applied
//   through version w" means every version up to w. Every event of the stream at or before P is
//   therefore applied exactly when the applied version reaches the highest version among them.
//   Waiting for that may also wait for lower versions lying after P (v5 above): those are
//   committed already (a version is only taken after every lower one committed), so the wait
//   only ever asks for events that exist.
// - The set must be final when it is read: a transaction with an xid below P's may still be open
//   and add an event of the stream before P (A above, had it not committed yet). Every
//   transaction with an xid at or below P's has finished once the snapshot's xmin is above P's
//   xid, and the version is read in that same snapshot (one statement). Until then the answer is
//   "not yet" and the caller asks again; the relay waits for the same condition before it
//   publishes, so this never waits longer than a cross-stream read would.
constexpr const char* version_at_sql =
    "SELECT pg_snapshot_xmin(pg_current_snapshot()) > $2::text::xid8, "
    "  coalesce((SELECT stream_version FROM events WHERE stream_id = $1 "
    "    AND (xid, seq) <= ($2::text::xid8, $3) ORDER BY stream_version DESC LIMIT 1), 0)";

// The live model of the projection, joined in the same statement as its version row, as readers
// of the model join it: a rebuild's switch never shows a version of another model.
constexpr const char* applied_sql =
    "SELECT coalesce((SELECT v.version FROM projection_stream_versions v "
    "  JOIN projection_live_models l ON l.model = v.model WHERE l.projection = $1 AND v.stream_id = $2), 0)";

}  // namespace

bool has_applied_through(pqxx::transaction_base& tx, const read_your_writes_source& source,
                         core::log_position position) {
  const auto rows = tx.exec_params(through_sql, source.projection, source.relay_name, source.topic,
                                   std::to_string(position.xid()), static_cast<std::int64_t>(position.seq()),
                                   position.token());
  return source.partitions > 0 && rows[0][0].as<int>() >= source.partitions;
}

std::optional<std::int64_t> stream_version_at(pqxx::transaction_base& tx, const core::stream_id& stream,
                                              core::log_position position) {
  const auto row = tx.exec_params1(version_at_sql, stream.str(), std::to_string(position.xid()),
                                   static_cast<std::int64_t>(position.seq()));
  if (!row[0].as<bool>()) return std::nullopt;
  return row[1].as<std::int64_t>();
}

bool has_applied_stream(pqxx::transaction_base& tx, const std::string& projection, const core::stream_id& stream,
                        std::int64_t version) {
  return tx.exec_params1(applied_sql, projection, stream.str())[0].as<std::int64_t>() >= version;
}

}  // namespace cqrs::projections
