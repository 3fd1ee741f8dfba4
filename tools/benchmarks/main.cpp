// cqrs-bench: the engine's side of the benchmarks that tools/bench runs against raw baselines.
// `cqrs-bench NAME --help` shows a benchmark's flags; figures go to stdout as RESULT lines.

#include <exception>
#include <iostream>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tools/benchmarks/benchmark.hpp"

namespace {

using cqrs::tools::benchmarks::benchmark;

std::vector<benchmark> all_benchmarks() {
  return {cqrs::tools::benchmarks::append_benchmark(), cqrs::tools::benchmarks::resilience_benchmark(),
          cqrs::tools::benchmarks::auth_benchmark()};
}

void print_usage(std::ostream& out, const std::vector<benchmark>& benchmarks) {
  out << "Usage: cqrs-bench NAME [--flag value ...]\n\nBenchmarks:\n";
  for (const auto& b : benchmarks) out << fmt::format("  {:<10} {}\n", b.name, b.summary);
}

}  // namespace

int main(int argc, char** argv) {
  const auto benchmarks = all_benchmarks();
  const std::string_view name = argc > 1 ? argv[1] : "";
  if (name.empty() || name == "--help" || name == "-h") {
    print_usage(name.empty() ? std::cerr : std::cout, benchmarks);
    return name.empty() ? 2 : 0;
  }
  for (const auto& b : benchmarks) {
    if (b.name != name) continue;
    try {
      return b.run(argc - 1, argv + 1);
    } catch (const std::exception& e) {
      std::cerr << fmt::format("cqrs-bench {}: {}\n", name, e.what());
      return 1;
    }
  }
  std::cerr << fmt::format("cqrs-bench: unknown benchmark '{}'\n", name);
  print_usage(std::cerr, benchmarks);
  return 2;
}
