#include "gateway/http_metrics.hpp"

#include <map>
#include <mutex>
#include <shared_mutex>
#include <tuple>

namespace cqrs::gateway {

namespace {

constexpr const char* requests_name = "cqrs_http_requests_total";
constexpr const char* requests_help = "HTTP requests answered, by route, method and status";
constexpr const char* duration_name = "cqrs_http_request_duration_seconds";
constexpr const char* duration_help = "Time from a request's arrival to its response, by route";

// From half a millisecond (a cache hit) to ten seconds (past every timeout we configure).
std::vector<double> duration_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::size_t index_of(pool_kind kind) {
  switch (kind) {
    case pool_kind::postgres: return 0;
    case pool_kind::redis: return 1;
  }
  return 0;
}

core::metric_labels pool_labels(pool_kind kind) { return {{"pool", std::string(to_string(kind))}}; }

}  // namespace

// Routes are a fixed set and methods and statuses are few, so the cache stays small; the
// registry's make_* takes its lock and searches its series, which the hot path should not.
struct http_metrics::series_cache {
  std::shared_mutex mutex;
  std::map<std::tuple<std::string, std::string, int>, core::counter*, std::less<>> requests;
  std::map<std::string, core::histogram*, std::less<>> durations;
};

http_metrics::http_metrics(core::metrics_registry& registry)
    : registry_(registry),
      connections_(registry.make_gauge("cqrs_http_connections", "HTTP connections open")),
      pools_{},
      cache_(std::make_unique<series_cache>()) {
  for (const auto kind : {pool_kind::postgres, pool_kind::redis}) pools_[index_of(kind)] = pool_series_for(registry, kind);
}

http_metrics::pool_series http_metrics::pool_series_for(core::metrics_registry& registry, pool_kind pool) {
  return {&registry.make_gauge("cqrs_pool_busy_threads", "Pool threads running work", pool_labels(pool)),
          &registry.make_gauge("cqrs_pool_queued", "Work waiting for a pool thread", pool_labels(pool)),
          &registry.make_counter("cqrs_pool_refused_total", "Work refused because the pool was saturated (503)",
                                 pool_labels(pool))};
}

void http_metrics::publish_pool_state(core::metrics_registry& registry, pool_kind pool, std::size_t busy,
                                      std::size_t queued) {
  const auto series = pool_series_for(registry, pool);
  series.busy->set(static_cast<double>(busy));
  series.queued->set(static_cast<double>(queued));
}

http_metrics::~http_metrics() = default;

void http_metrics::record(const std::string& route, const std::string& method, int status,
                          std::chrono::nanoseconds elapsed) {
  auto key = std::make_tuple(route, method, status);
  core::counter* requests = nullptr;
  core::histogram* duration = nullptr;
  {
    std::shared_lock lock(cache_->mutex);
    if (auto found = cache_->requests.find(key); found != cache_->requests.end()) requests = found->second;
    if (auto found = cache_->durations.find(route); found != cache_->durations.end()) duration = found->second;
  }
  if (requests == nullptr || duration == nullptr) {
    std::unique_lock lock(cache_->mutex);
    requests = &registry_.make_counter(requests_name, requests_help,
                                       {{"route", route}, {"method", method}, {"status", std::to_string(status)}});
    duration = &registry_.make_histogram(duration_name, duration_help, duration_buckets(), {{"route", route}});
    cache_->requests.emplace(std::move(key), requests);
    cache_->durations.emplace(route, duration);
  }
  requests->increment();
  duration->observe(std::chrono::duration<double>(elapsed).count());
}

void http_metrics::connection_opened() { connections_.add(1); }

void http_metrics::connection_closed() { connections_.add(-1); }

void http_metrics::pool_state(pool_kind pool, std::size_t busy, std::size_t queued) {
  const auto& series = pools_[index_of(pool)];
  series.busy->set(static_cast<double>(busy));
  series.queued->set(static_cast<double>(queued));
}

void http_metrics::pool_refused(pool_kind pool) { pools_[index_of(pool)].refused->increment(); }

}  // namespace cqrs::gateway
