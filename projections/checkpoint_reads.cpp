#include "projections/checkpoint_reads.hpp"

#include <string>

#include <pqxx/pqxx>

#include "core/log_position.hpp"

namespace cqrs::projections {

namespace {

// The relay's row for the caught_up comparison is joined, not read separately, so both come from
// one snapshot. Projections are those with a PostgreSQL live model or with checkpoints (a Redis
// model's live pointer is in Redis).
constexpr const char* checkpoints_sql =
    "WITH relay AS (SELECT updated_at FROM relay_checkpoints WHERE relay_name = $1 AND topic = $2) "
    "SELECT l.projection, coalesce(c.kafka_partition, -1), coalesce(c.log_position, ''), coalesce(c.kafka_offset, -1), "
    "  coalesce(extract(epoch FROM now() - c.updated_at)::float8, 0), "
    "  coalesce(c.caught_up_as_of >= (SELECT updated_at FROM relay), false), "
    "  coalesce(pm.xid::text, ''), coalesce(pm.seq, 0) "
    "FROM (SELECT projection FROM projection_live_models UNION SELECT projection FROM projection_checkpoints) l "
    "LEFT JOIN projection_checkpoints c ON c.projection = l.projection "
    // The relay's newest mark at or before the partition was last caught up: the partition held
    // everything published up to it then. Marks only grow with time, so the newest by position is
    // the newest by time (the primary key's order, read backwards).
    "LEFT JOIN LATERAL (SELECT m.xid, m.seq FROM relay_progress_marks m WHERE m.relay_name = $1 AND m.topic = $2 "
    "  AND m.marked_at <= c.caught_up_as_of ORDER BY m.xid DESC, m.seq DESC LIMIT 1) pm ON true "
    "ORDER BY l.projection, c.kafka_partition";

std::string token_of(const std::string& xid, std::uint64_t seq) {
  return xid.empty() ? std::string{} : core::log_position(std::stoull(xid), seq).token();
}

}  // namespace

std::optional<relay_checkpoint_state> read_relay_checkpoint(pqxx::transaction_base& tx, const std::string& relay_name,
                                                            const std::string& topic) {
  const auto rows = tx.exec_params(
      "SELECT xid::text, seq, extract(epoch FROM now() - updated_at)::float8 FROM relay_checkpoints "
      "WHERE relay_name = $1 AND topic = $2",
      relay_name, topic);
  if (rows.empty()) return std::nullopt;
  return relay_checkpoint_state{token_of(rows[0][0].as<std::string>(), rows[0][1].as<std::uint64_t>()),
                                rows[0][2].as<double>()};
}

std::vector<projection_partition_state> read_projection_checkpoints(pqxx::transaction_base& tx,
                                                                    const std::string& relay_name,
                                                                    const std::string& topic) {
  std::vector<projection_partition_state> out;
  for (const auto& row : tx.exec_params(checkpoints_sql, relay_name, topic)) {
    out.push_back({row[0].as<std::string>(), row[1].as<int>(), row[2].as<std::string>(), row[3].as<std::int64_t>(),
                   row[4].as<double>(), row[5].as<bool>(),
                   token_of(row[6].as<std::string>(), row[7].as<std::uint64_t>())});
  }
  return out;
}

}  // namespace cqrs::projections
