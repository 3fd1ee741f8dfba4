#include "projections/status.hpp"

#include <pqxx/pqxx>

namespace cqrs::projections {

namespace {

using stream_versions = std::vector<std::pair<std::string, std::int64_t>>;

// The store's version of every stream of the category (the highest stream_version per stream).
stream_versions category_streams(pqxx::transaction_base& tx, const std::string& category) {
  stream_versions streams;
  for (const auto& row : tx.exec_params(
           "SELECT stream_id, max(stream_version) FROM events WHERE category = $1 GROUP BY stream_id", category)) {
    streams.emplace_back(row[0].as<std::string>(), row[1].as<std::int64_t>());
  }
  return streams;
}

std::int64_t redis_lag(redis_client& redis, const std::string& model, const stream_versions& streams) {
  std::int64_t lag = 0;
  for (std::size_t i = 0; i < streams.size(); i += 500) {
    std::vector<std::string> command{"HMGET", model + ":applied"};
    const auto end = std::min(streams.size(), i + 500);
    for (auto j = i; j < end; ++j) command.push_back(streams[j].first);
    const auto reply = redis.checked(command);
    for (auto j = i; j < end; ++j) {
      const auto& applied = reply.elements.at(j - i);
      lag += streams[j].second - (applied.type == redis_reply::kind::nil ? 0 : std::stoll(applied.text));
    }
  }
  return lag;
}

std::int64_t pg_lag(pqxx::transaction_base& tx, const std::string& model, const std::string& category) {
  return tx.exec_params(
             "SELECT coalesce(sum(s.version - coalesce(v.version, 0)), 0)::bigint FROM "
             "(SELECT stream_id, max(stream_version) AS version FROM events WHERE category = $2 GROUP BY stream_id) s "
             "LEFT JOIN projection_stream_versions v ON v.model = $1 AND v.stream_id = s.stream_id",
             model, category)[0][0]
      .as<std::int64_t>();
}

std::vector<partition_checkpoint> checkpoints(pqxx::transaction_base& tx, const std::string& projection) {
  std::vector<partition_checkpoint> out;
  for (const auto& row : tx.exec_params(
           "SELECT kafka_partition, log_position, kafka_offset, updated_at::text FROM projection_checkpoints "
           "WHERE projection = $1 ORDER BY kafka_partition",
           projection)) {
    out.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::int64_t>(), row[3].as<std::string>()});
  }
  return out;
}

}  // namespace

std::vector<projection_status> projections_status(runtime& rt, const std::string& pg_url) {
  pqxx::connection connection(pg_url);
  pqxx::work tx(connection);
  std::vector<projection_status> all;
  for (const auto& target : rt.targets().all()) {
    projection_status status{target->info(), target->live_model(), false, 0, checkpoints(tx, target->info().name)};
    status.rebuild_needed = !status.live_model.starts_with(target->info().model_name(""));
    const auto streams = category_streams(tx, target->info().category);
    status.lag_events = target->info().target == target_kind::redis
                            ? redis_lag(rt.redis(), status.live_model, streams)
                            : pg_lag(tx, status.live_model, target->info().category);
    all.push_back(std::move(status));
  }
  return all;
}

}  // namespace cqrs::projections
