#include "gateway/operations_routes.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "core/log_position.hpp"
#include "core/metrics.hpp"
#include "gateway/drain_state.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/http_metrics.hpp"
#include "gateway/read_model_lag.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"
#include "gateway/worker_pool.hpp"
#include "projections/checkpoint_reads.hpp"

namespace cqrs::gateway {

namespace {

namespace json = boost::json;
constexpr std::chrono::milliseconds no_delay{0};

http_response json_response(int status, const json::object& body) {
  return {status, {{"Content-Type", "application/json"}}, json::serialize(body)};
}

// ---- /readyz -------------------------------------------------------------------------------------
//
// 503 only when the gateway cannot serve at all: PostgreSQL (the event store, and the reads'
// fallback) does not answer. Redis down, or a read model gone stale, still serves (reads fall back
// to PostgreSQL, or answer stale data with their lag in the metrics): 200, the body naming what is
// degraded, so that a load balancer does not drop every gateway during a Redis outage.

const char* state(bool up) { return up ? "up" : "down"; }

// A partition whose checkpoint has neither proven itself caught up with the relay nor been saved
// for this long: the projector saves every second, so its projector is down or its model cut off.
constexpr double stale_after_seconds = 10;
// A bounded body, whatever the number of projections.
constexpr std::size_t stale_names_listed = 20;
// A Redis that accepts connections but does not answer (stopped, stuck) must not hold the probe.
constexpr std::chrono::milliseconds redis_probe_timeout{500};

struct postgres_state {
  bool up = false;
  std::vector<std::string> stale;  // projections
};

std::vector<std::string> stale_projections(const std::vector<projections::projection_partition_state>& rows) {
  std::vector<std::string> stale;
  for (const auto& row : rows) {
    if (row.partition < 0 || row.caught_up_since_relay || row.age_seconds <= stale_after_seconds) continue;
    if (stale.empty() || stale.back() != row.projection) stale.push_back(row.projection);  // rows come sorted
  }
  return stale;
}

// Readiness answers; it never throws to the server, whose failed() would hide which one is down.
// PostgreSQL is up when it answers SELECT 1; the checkpoints are read apart, so that a schema not
// migrated yet makes no stale list rather than a PostgreSQL "down".
postgres_state postgres_answers(worker_context& workers, const operations_dependencies& deps) {
  postgres_state answer;
  try {
    workers.reads().run(core::statement_effect::none_on_failure,
                        [](pqxx::connection_base& c) { pqxx::nontransaction(c).exec("SELECT 1"); });
    answer.up = true;
    workers.reads().run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
      pqxx::read_transaction tx(c);
      answer.stale = stale_projections(
          projections::read_projection_checkpoints(tx, deps.config.relay_name, deps.config.engine.kafka.topic));
    });
  } catch (const std::exception&) {
    if (!answer.up) workers.reads().reset();
  }
  return answer;
}

bool ping(worker_context& workers) {
  auto& redis = workers.redis();
  redis.set_command_timeout(redis_probe_timeout);
  return !redis.command({"PING"}).is_error();
}

// A connection opened before Redis restarted fails at once (the old server closed it): that says
// nothing about the new server, so it is asked again on a new connection. A probe that timed out
// is not asked again: a stopped Redis would hold the probe twice as long. Nothing is remembered
// between probes (no backoff), so a Redis that is back is seen by the very next probe.
bool redis_answers(worker_context& workers) {
  const auto started = std::chrono::steady_clock::now();
  try {
    return ping(workers);
  } catch (const std::exception&) {
    workers.drop_connections();
  }
  if (std::chrono::steady_clock::now() - started >= redis_probe_timeout / 2) return false;
  try {
    return ping(workers);
  } catch (const std::exception&) {
    workers.drop_connections();
    return false;
  }
}

http_response readiness(const postgres_state& postgres, bool redis_up) {
  json::array degraded;
  if (!redis_up) degraded.emplace_back("redis");
  if (!postgres.stale.empty()) degraded.emplace_back("projections");
  json::array stale;
  for (std::size_t i = 0; i < postgres.stale.size() && i < stale_names_listed; ++i) stale.emplace_back(postgres.stale[i]);
  const char* status = !postgres.up ? "unavailable" : degraded.empty() ? "ready" : "degraded";
  json::object body{{"status", status},
                    {"postgres", state(postgres.up)},
                    {"redis", state(redis_up)},
                    {"degraded", std::move(degraded)},
                    {"stale_projections", std::move(stale)},
                    {"stale_projections_total", postgres.stale.size()}};
  if (postgres.up) return json_response(200, body);
  auto response = json_response(503, body);
  response.set_header("Retry-After", "1");
  return response;
}

// A gateway asked to stop answers 503 at once, whatever its dependencies: a load balancer takes it
// out of rotation while its requests in flight finish (drain_state.hpp).
http_response draining() {
  auto response = json_response(503, json::object{{"status", "draining"}});
  response.set_header("Retry-After", "1");
  return response;
}

step readyz(const operations_dependencies& deps) {
  if (deps.drain != nullptr && deps.drain->draining()) return draining();
  return offload{pool_kind::postgres,
                 [deps](worker_context& workers) -> step {
                   auto postgres = postgres_answers(workers, deps);
                   return offload{pool_kind::redis,
                                  [postgres = std::move(postgres)](worker_context& redis_workers) -> step {
                                    return readiness(postgres, redis_answers(redis_workers));
                                  },
                                  no_delay};
                 },
                 no_delay};
}

// ---- /metrics --------------------------------------------------------------------------------------

void publish_relay(core::metrics_registry& registry, const std::string& relay, core::log_position head,
                   const std::optional<projections::relay_checkpoint_state>& checkpoint) {
  const core::metric_labels labels{{"relay", relay}};
  const auto confirmed = checkpoint ? position_of(checkpoint->log_position) : core::log_position{};
  registry.make_gauge("cqrs_relay_lag_events", "Events between the checkpoint and the safe head", labels)
      .set(seq_distance(head, confirmed));
  registry.make_gauge("cqrs_relay_checkpoint_age_seconds", "Time since the relay last saved its checkpoint", labels)
      .set(checkpoint ? checkpoint->age_seconds : 0);
}

// Per projection: how far its slowest partition that has not proven itself caught up lies behind
// the relay's checkpoint (what read-your-writes waits for), and each partition's checkpoint.
void publish_projections(core::metrics_registry& registry,
                         const std::vector<projections::projection_partition_state>& rows,
                         core::log_position relay_confirmed) {
  std::map<std::string, double> lag;
  for (const auto& row : rows) {
    auto& behind = lag[row.projection];
    if (row.partition < 0) continue;
    if (!row.caught_up_since_relay) behind = std::max(behind, seq_distance(relay_confirmed, position_of(row.log_position)));
    const core::metric_labels labels{{"projection", row.projection}, {"partition", std::to_string(row.partition)}};
    registry.make_gauge("cqrs_projection_checkpoint_offset", "The last Kafka offset a projection checkpointed", labels)
        .set(static_cast<double>(row.offset));
    registry.make_gauge("cqrs_projection_checkpoint_age_seconds", "Time since a projection last saved its checkpoint", labels)
        .set(row.age_seconds);
  }
  for (const auto& [projection, behind] : lag) {
    registry.make_gauge("cqrs_projection_lag_events",
                        "Events (by sequence distance) between the relay's checkpoint and the projection's",
                        {{"projection", projection}})
        .set(behind);
  }
}

void refresh_lag(worker_context& workers, const operations_dependencies& deps) {
  const auto progress = read_progress(workers, deps.config);
  publish_relay(deps.registry, deps.config.relay_name, progress.head, progress.relay);
  publish_projections(deps.registry, progress.partitions, progress.relay_confirmed());
}

// What the Read-Model-Lag header says, per projection: seconds behind the store (see
// read_model_lag.hpp), and how old that measurement is.
void publish_staleness(core::metrics_registry& registry, const read_model_lag& lag) {
  const auto now = read_model_lag::clock::now();
  for (const auto& projection : lag.projections()) {
    const auto figures = lag.of(projection, now);
    if (!figures) continue;
    registry.make_gauge("cqrs_read_model_lag_seconds", "How long ago the event store was where the read model is",
                        {{"projection", projection}})
        .set(figures->seconds);
    registry.make_gauge("cqrs_read_model_lag_measured_ago_seconds", "Age of the read-model lag measurement",
                        {{"projection", projection}})
        .set(figures->measured_ago);
  }
}

http_response render_metrics(worker_context& workers, const operations_dependencies& deps) {
  auto& failures = deps.registry.make_counter("cqrs_metrics_refresh_failures_total",
                                              "Scrapes whose lag gauges could not be refreshed from PostgreSQL");
  try {
    refresh_lag(workers, deps);
  } catch (const std::exception&) {
    // The gateway's own series are still worth serving while PostgreSQL is away; the lag
    // gauges keep their last values and this counter says they are stale.
    failures.increment();
  }
  publish_staleness(deps.registry, deps.lag);
  http_metrics::publish_pool_state(deps.registry, pool_kind::postgres, deps.postgres.busy(), deps.postgres.queued());
  http_metrics::publish_pool_state(deps.registry, pool_kind::redis, deps.redis.busy(), deps.redis.queued());
  return {200, {{"Content-Type", "text/plain; version=0.0.4"}}, deps.registry.render()};
}

}  // namespace

void add_operations_routes(router& r, operations_dependencies deps) {
  r.add(route_spec{"GET", "/healthz", access_policy::anyone(),
                   [](request_context&) -> step { return json_response(200, json::object{{"status", "ok"}}); }, false});
  r.add(route_spec{"GET", "/readyz", access_policy::anyone(), [deps](request_context&) -> step { return readyz(deps); },
                   false});
  r.add(route_spec{"GET", "/metrics", access_policy::anyone(),
                   [deps](request_context&) -> step {
                     return offload{pool_kind::postgres,
                                    [deps](worker_context& workers) -> step { return render_metrics(workers, deps); },
                                    no_delay};
                   },
                   false});
}

}  // namespace cqrs::gateway
