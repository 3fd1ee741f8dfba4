// cqrs-gateway: the HTTP gateway (see gateway/README.md and --help). Builds its components in
// dependency order, serves until SIGTERM or SIGINT (the server's own signal handling: stop
// accepting, let in-flight requests finish within CQRS_HTTP_SHUTDOWN_DEADLINE_MS, close the
// rest), then stops the worker pools and unwinds in reverse order.

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <vector>

#include "core/append_committer.hpp"
#include "core/commit_notifier.hpp"
#include "core/config.hpp"
#include "core/group_commit.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/supervision.hpp"
#include "core/upcasting.hpp"
#include "gateway/auth_epochs.hpp"
#include "gateway/cors_policy.hpp"
#include "gateway/drain_state.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/http_metrics.hpp"
#include "gateway/http_server.hpp"
#include "gateway/jwt.hpp"
#include "gateway/operations_routes.hpp"
#include "gateway/read_model_lag.hpp"
#include "gateway/read_replica.hpp"
#include "gateway/domain.hpp"
#include "gateway/rate_limiter.hpp"
#include "gateway/router.hpp"
#include "gateway/stream_routes.hpp"
#include "gateway/worker_context.hpp"
#include "gateway/metrics_file.hpp"
#include "gateway/worker_pool.hpp"
#include "schemas/contracts/catalog.hpp"

extern char** environ;

namespace cqrs::gateway {
namespace {

constexpr int exit_usage = 2;

// What the gateway reads: the engine's settings and its own.
const std::vector<core::setting_spec>& all_settings() {
  static const std::vector<core::setting_spec> specs = [] {
    auto all = core::engine_settings();
    all.insert(all.end(), gateway_settings().begin(), gateway_settings().end());
    all.insert(all.end(), core::security::security_settings().begin(), core::security::security_settings().end());
    all.push_back(core::supervisor_restarts_spec());
    all.push_back({"CQRS_GATEWAY_METRICS_FILE", "",
                   "write the gateway's metrics (Prometheus text) to this file every second, for `cqrs status`"});
    return all;
  }();
  return specs;
}

worker_settings make_worker_settings(const gateway_config& config, const core::upcaster_registry& upcasters,
                                     core::commit_notifier& notifier, core::group_commit& group) {
  worker_settings settings;
  settings.pg_url = config.engine.postgres.url;
  settings.redis_url = config.engine.redis.url;
  settings.pipeline.notifier = &notifier;
  settings.pipeline.group = &group;
  settings.caches = std::make_shared<const command_caches>(make_command_caches(config));
  settings.upcasters = &upcasters;
  settings.notifier = &notifier;
  return settings;
}

void add_routes(router& routes, const gateway_config& config, core::metrics_registry& registry,
                const worker_settings& settings, const worker_pool& postgres, const worker_pool& redis,
                const read_model_lag& lag, const core::logger& log, const drain_state& drain) {
  add_domain_routes(routes, {config, *settings.caches, settings.pipeline, lag, &registry, &log});
  add_stream_routes(routes, config);
  add_operations_routes(routes, {config, registry, postgres, redis, lag, &drain});
}

int serve(const gateway_config& config, const core::settings_source& source) {
  const core::logger log("cqrs-gateway", config.engine.log);
  core::upcaster_registry upcasters;
  schemas::register_upcasters(upcasters);
  core::commit_notifier notifier(config.engine.postgres.url);
  core::group_commit group(config.group_commit_max);
  core::metrics_registry registry;
  // Read models on the streaming replica while it keeps up (read_replica.hpp); none without one.
  read_routing routing(registry, config.read_replica_max_lag);
  auto settings = make_worker_settings(config, upcasters, notifier, group);
  if (!config.pg_read_url.empty()) {
    settings.pg_read_url = config.pg_read_url;
    settings.routing = &routing;
  }
  std::optional<read_replica_monitor> replica_monitor;
  if (!config.pg_read_url.empty()) replica_monitor.emplace(routing, config.engine.postgres.url, config.pg_read_url, log);
  const auto restarts = core::publish_supervisor_restarts(source, registry);
  http_metrics metrics(registry);
  // Users' rights as every gateway last recorded them: a revoked token is refused within a second.
  const auth_epochs rights(config.engine.postgres.url);
  const jwt_verifier tokens(config.auth, &rights);
  rate_limiter limiter(config.rate_limit);
  const cors_policy cors(config.cors_origins);
  // Before the pools: their last queued measurements write into it.
  read_model_lag lag;
  drain_state drain;  // set by the server on SIGTERM, read by /readyz
  worker_pool postgres(pool_kind::postgres, config.postgres_pool.threads, config.postgres_pool.queue, settings,
                       &metrics);
  worker_pool redis(pool_kind::redis, config.redis_pool.threads, config.redis_pool.queue, settings, &metrics);
  router routes(router_dependencies{config, tokens, limiter, cors, metrics});
  add_routes(routes, config, registry, settings, postgres, redis, lag, log, drain);
  // The pools' and the password pool's resilience series, for `cqrs status` (after the routes,
  // which make the password pool's: its first write holds every series; destroyed before the
  // pools, with one last write).
  const metrics_file metrics_out(registry, source.text("CQRS_GATEWAY_METRICS_FILE", ""));
  const read_model_lag_monitor lag_monitor(lag, postgres, config);
  // The cached commands' appends (an I/O thread hands them over; see command_routes.hpp):
  // one thread and one connection of its own, bounded like the PostgreSQL pool's queue (at least
  // one: a queue of 0 means no waiting for a pool thread, and the committer holds no thread).
  core::append_committer committer(store_options_for(settings), config.group_commit_max,
                                   std::max<std::size_t>(config.postgres_pool.queue, 1), &registry);

  const redis_async_options redis_options;
  const auto tls = config.tls.enabled ? std::optional<tls_config>(config.tls) : std::nullopt;
  http_server server(config.engine.http.host, config.engine.http.port, config.engine.http.threads, config.limits,
                     server_dependencies{routes, postgres, redis, &metrics, config.engine.redis.url, redis_options,
                                         &committer, tls, &log, &drain});
  log.info("listening", {{"host", config.engine.http.host}, {"port", server.port()},
                         {"restarts", std::to_string(restarts)},
                         {"threads", config.engine.http.threads},
                         {"scheme", tls ? "https" : "http"},
                         {"tls_min_version", !tls ? "none" : tls->allow_tls12 ? "1.2" : "1.3"}});
  server.run();
  // Intake has stopped; finish the queued work, then unwind in reverse. (The server's destructor
  // also waits for offloads still completing into it, so no path out can outrun a pool thread.)
  committer.stop();
  redis.stop();
  postgres.stop();
  log.info("stopped");
  return EXIT_SUCCESS;
}

int main(int argc, char** argv) {
  try {
    const auto source = core::settings_source::from_command_line(argc, argv, environ, all_settings());
    if (source.help_requested()) {
      std::cout << core::settings_help(
          "cqrs-gateway", "Serves commands and queries over HTTPS (plain HTTP with CQRS_HTTP_PLAIN=true).", all_settings());
      return EXIT_SUCCESS;
    }
    return serve(load_gateway_config(source), source);
  } catch (const core::config_error& e) {
    std::cerr << "cqrs-gateway: " << e.what() << "\n(try --help)\n";
    return exit_usage;
  } catch (const std::exception& e) {
    core::logger("cqrs-gateway").error("gateway failed", {{"error", e.what()}});
    return EXIT_FAILURE;
  }
}

}  // namespace
}  // namespace cqrs::gateway

int main(int argc, char** argv) { return cqrs::gateway::main(argc, argv); }
