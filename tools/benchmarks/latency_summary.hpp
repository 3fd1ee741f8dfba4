#pragma once

// Percentiles of the latencies the writers recorded, in microseconds (nearest-rank method).

#include <cstdint>
#include <vector>

namespace cqrs::tools::benchmarks {

struct latency_summary {
  double mean_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

// Sorts `micros` in place. An empty sample gives all zeros.
latency_summary summarize_latencies(std::vector<std::uint32_t>& micros);

}  // namespace cqrs::tools::benchmarks
