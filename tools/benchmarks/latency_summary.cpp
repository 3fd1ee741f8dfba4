#include "tools/benchmarks/latency_summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cqrs::tools::benchmarks {

namespace {

constexpr double ms_per_us = 1e-3;

// Nearest rank: the smallest sample with at least `fraction` of the samples at or below it.
double percentile_ms(const std::vector<std::uint32_t>& sorted, double fraction) {
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1] * ms_per_us;
}

}  // namespace

latency_summary summarize_latencies(std::vector<std::uint32_t>& micros) {
  if (micros.empty()) return {};
  std::sort(micros.begin(), micros.end());
  const double total = std::accumulate(micros.begin(), micros.end(), 0.0);
  return latency_summary{
      .mean_ms = total / static_cast<double>(micros.size()) * ms_per_us,
      .p50_ms = percentile_ms(micros, 0.50),
      .p90_ms = percentile_ms(micros, 0.90),
      .p99_ms = percentile_ms(micros, 0.99),
      .max_ms = micros.back() * ms_per_us,
  };
}

}  // namespace cqrs::tools::benchmarks
