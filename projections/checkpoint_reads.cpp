#include "projections/checkpoint_reads.hpp"

#include <string>

#include <pqxx/pqxx>

#include "core/log_position.hpp"

namespace cqrs::projections {

namespace {

// The relay's row for the caught_up comparison is joined, not read separately, so both come from
// one snapshot.
constexpr const char* checkpoints_sql =
    "WITH relay AS (SELECT updated_at FROM relay_checkpoints WHERE relay_name = $1 AND topic = $2) "
    "SELECT l.projection, coalesce(c.kafka_partition, -1), coalesce(c.log_position, ''), coalesce(c.kafka_offset, -1), "
    "  coalesce(extract(epoch FROM now() - c.updated_at)::float8, 0), "
    "  coalesce(c.caught_up_as_of >= (SELECT updated_at FROM relay), false) "
    "FROM projection_live_models l LEFT JOIN projection_checkpoints c ON c.projection = l.projection "
    "ORDER BY l.projection, c.kafka_partition";

}  // namespace

std::optional<relay_checkpoint_state> read_relay_checkpoint(pqxx::transaction_base& tx, const std::string& relay_name,
                                                            const std::string& topic) {
  const auto rows = tx.exec_params(
      "SELECT xid::text, seq, extract(epoch FROM now() - updated_at)::float8 FROM relay_checkpoints "
      "WHERE relay_name = $1 AND topic = $2",
      relay_name, topic);
  if (rows.empty()) return std::nullopt;
  const core::log_position at(std::stoull(rows[0][0].as<std::string>()), rows[0][1].as<std::uint64_t>());
  return relay_checkpoint_state{at.token(), rows[0][2].as<double>()};
}

std::vector<projection_partition_state> read_projection_checkpoints(pqxx::transaction_base& tx,
                                                                    const std::string& relay_name,
                                                                    const std::string& topic) {
  std::vector<projection_partition_state> out;
  for (const auto& row : tx.exec_params(checkpoints_sql, relay_name, topic)) {
    out.push_back({row[0].as<std::string>(), row[1].as<int>(), row[2].as<std::string>(), row[3].as<std::int64_t>(),
                   row[4].as<double>(), row[5].as<bool>()});
  }
  return out;
}

}  // namespace cqrs::projections
