#pragma once

// The gateway's own series in the shared metrics registry: requests by route, method and status
// (cqrs_http_requests_total), latency by route (cqrs_http_request_duration_seconds), connections
// open, and per pool: threads busy, queue depth and refusals (cqrs_pool_*). Updating is
// lock-free after a series' first use.

#include <chrono>
#include <string>

#include "core/metrics.hpp"
#include "gateway/http_types.hpp"

namespace cqrs::gateway {

class http_metrics {
 public:
  explicit http_metrics(core::metrics_registry& registry);

  void record(const std::string& route, const std::string& method, int status, std::chrono::nanoseconds elapsed);
  void connection_opened();
  void connection_closed();
  void pool_state(pool_kind pool, std::size_t busy, std::size_t queued);
  void pool_refused(pool_kind pool);

  core::metrics_registry& registry() { return registry_; }

 private:
  core::metrics_registry& registry_;
  core::gauge& connections_;
};

}  // namespace cqrs::gateway
