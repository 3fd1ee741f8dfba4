#pragma once

// The gateway's own series in the shared metrics registry: requests by route, method and status
// (cqrs_http_requests_total), latency by route (cqrs_http_request_duration_seconds), connections
// open, and per pool: threads busy, queue depth and refusals (cqrs_pool_*). Updating is
// lock-free after a series' first use, except for finding the (route, method, status) series in a
// cache under a shared (reader) lock; the registry's own lock is taken only on first use.

#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "core/metrics.hpp"
#include "gateway/http_types.hpp"

namespace cqrs::gateway {

class http_metrics {
 public:
  explicit http_metrics(core::metrics_registry& registry);
  ~http_metrics();
  http_metrics(const http_metrics&) = delete;
  http_metrics& operator=(const http_metrics&) = delete;

  void record(const std::string& route, const std::string& method, int status, std::chrono::nanoseconds elapsed);
  void connection_opened();
  void connection_closed();
  void pool_state(pool_kind pool, std::size_t busy, std::size_t queued);
  void pool_refused(pool_kind pool);

  core::metrics_registry& registry() { return registry_; }

  // The pool gauges set from outside an http_metrics (e.g. /metrics reading a pool's state).
  static void publish_pool_state(core::metrics_registry& registry, pool_kind pool, std::size_t busy,
                                 std::size_t queued);

 private:
  struct pool_series {
    core::gauge* busy;
    core::gauge* queued;
    core::counter* refused;
  };
  struct series_cache;
  static pool_series pool_series_for(core::metrics_registry& registry, pool_kind pool);

  core::metrics_registry& registry_;
  core::gauge& connections_;
  std::array<pool_series, 2> pools_;  // by pool_kind
  std::unique_ptr<series_cache> cache_;
};

}  // namespace cqrs::gateway
