#pragma once

// A small metrics registry: counters, gauges and fixed-bucket histograms, rendered in the
// Prometheus text exposition format (version 0.0.4) for the gateway's /metrics.
//
// Thread-safety: registering takes a lock; updating a metric is lock-free (atomics), so hot paths
// may update freely from any thread. A metric lives as long as its registry: components take the
// registry by reference and keep references to their metrics. Rendering reads every metric
// without stopping writers, so a histogram's buckets may be a few observations apart; its count
// is derived from the buckets, so `_count` always equals the `+Inf` bucket.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace cqrs::core {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

// Only goes up (events relayed, errors). Prometheus convention: name it `..._total`.
class counter {
 public:
  void increment(double by = 1.0) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Goes up and down (lag, queue depth, "is leader").
class gauge {
 public:
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(double by) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets fixed at registration (upper bounds, ascending; `+Inf` is
// implicit), plus their sum.
class histogram {
 public:
  struct snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };

  // Throws std::invalid_argument unless the bounds are finite and strictly ascending.
  explicit histogram(std::vector<double> upper_bounds);

  void observe(double value) noexcept;
  snapshot collect() const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

// `count` bounds: start, start * factor, start * factor^2, ...
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

class metrics_registry {
 public:
  metrics_registry() = default;
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  // Registers a series, or returns the one already registered under the same name and labels.
  // Throws std::invalid_argument for an invalid name or label name, for a name registered as
  // another type, for different help text, or for a histogram with other buckets.
  counter& make_counter(std::string_view name, std::string_view help, metric_labels labels = {});
  gauge& make_gauge(std::string_view name, std::string_view help, metric_labels labels = {});
  histogram& make_histogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds,
                            metric_labels labels = {});

  // Every family in name order, series in registration order.
  std::string render() const;

 private:
  enum class metric_type { counter, gauge, histogram };
  using metric = std::variant<std::unique_ptr<counter>, std::unique_ptr<gauge>, std::unique_ptr<histogram>>;

  struct series {
    metric_labels labels;
    metric value;
  };

  struct family {
    metric_type type;
    std::string help;
    std::vector<series> members;
  };

  family& family_for(std::string_view name, std::string_view help, metric_type type);
  series* find_series(family& f, const metric_labels& labels);
  static std::string_view type_name(metric_type type);
  static void render_family(std::string& out, const std::string& name, const family& f);

  mutable std::mutex mutex_;
  std::map<std::string, family, std::less<>> families_;
};

// The registry's text (then `more`, series rendered elsewhere) written to `path` through a
// temporary file and a rename, so a scraper never reads half a file. False when the file could
// not be written (callers log; metrics never stop a process).
bool write_metrics_file(const metrics_registry& registry, const std::string& path, std::string_view more = {});

// Prometheus number text: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
std::string format_metric_value(double value);

}  // namespace cqrs::core
