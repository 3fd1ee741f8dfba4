#pragma once

// /healthz (the process is alive), /readyz (503 when draining or when PostgreSQL does not answer; 200 naming
// what is degraded: Redis, stale projections) and /metrics (Prometheus text: the gateway's
// series, pool saturation, relay and projection lag).

namespace cqrs::core {
class metrics_registry;
}

namespace cqrs::gateway {

class read_model_lag;
class drain_state;

class router;
class worker_pool;
struct gateway_config;

struct operations_dependencies {
  const gateway_config& config;
  core::metrics_registry& registry;
  const worker_pool& postgres;
  const worker_pool& redis;
  const read_model_lag& lag;
  // Set on SIGTERM: /readyz answers 503 "draining" at once; null: never draining.
  const drain_state* drain = nullptr;
};

void add_operations_routes(router& r, operations_dependencies deps);

}  // namespace cqrs::gateway
