// cqrs-bench resilience: the circuit breaker's cost per call. A bare call (a small function the
// optimiser cannot see through) is timed in a tight loop, then the same call through a closed
// breaker (try_acquire, the call, record: two clock reads, one atomic load, one short lock), then
// through the whole pipeline (bulkhead, retry, breaker, time limit), alternating for --rounds
// rounds; the medians and their differences are printed as RESULT lines. Times are the calling
// threads' CPU time, not wall time. The breaker uses the real steady clock, as in production.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/resilience/circuit_breaker.hpp"
#include "core/resilience/pipeline.hpp"
#include "tools/benchmarks/benchmark.hpp"
#include "tools/benchmarks/result_lines.hpp"

namespace cqrs::tools::benchmarks {

namespace {

namespace po = boost::program_options;
namespace resilience = core::resilience;

constexpr const char* summary = "the circuit breaker's and the pipeline's overhead per call against a bare call";

// The work under measurement: cheap, but opaque to the optimiser so no loop folds away.
[[gnu::noinline]] std::uint64_t bare_call(std::uint64_t x) {
  asm volatile("" : "+r"(x));
  return x * 2654435761U + 1;
}

// The calling thread's CPU time: on a shared machine wall time also counts the waits for a core.
double thread_cpu_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// CPU nanoseconds per call of `body` run `calls` times on each of `threads` threads at once
// (the slowest thread's).
template <typename Body>
double ns_per_call(int threads, std::uint64_t calls, Body body) {
  std::vector<double> per_thread(static_cast<std::size_t>(threads));
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::uint64_t sink = static_cast<std::uint64_t>(t);
        const auto start = thread_cpu_ns();
        for (std::uint64_t i = 0; i < calls; ++i) sink = body(sink);
        const auto took = thread_cpu_ns() - start;
        asm volatile("" : : "r"(sink));
        per_thread[static_cast<std::size_t>(t)] = took / static_cast<double>(calls);
      });
    }
  }
  return *std::max_element(per_thread.begin(), per_thread.end());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

resilience::breaker_config never_opening() {
  auto c = resilience::defaults_for("payment_provider").breaker;
  c.failure_rate_threshold = 100;  // the bare call never fails anyway; a closed breaker throughout
  return c;
}

struct round_figures {
  double bare_ns;
  double breaker_ns;
  double pipeline_ns;
};

round_figures one_round(int threads, std::uint64_t calls, resilience::circuit_breaker& breaker,
                        resilience::pipeline& pipeline) {
  round_figures r{};
  r.bare_ns = ns_per_call(threads, calls, [](std::uint64_t x) { return bare_call(x); });
  r.breaker_ns = ns_per_call(threads, calls, [&](std::uint64_t x) {
    auto admission = breaker.try_acquire();
    const auto& permit = std::get<resilience::circuit_breaker::permit>(admission);
    const auto y = bare_call(x);
    breaker.record(permit, resilience::call_kind::success);
    return y;
  });
  r.pipeline_ns = ns_per_call(threads, calls, [&](std::uint64_t x) {
    auto out = pipeline.execute(
        resilience::retry_safety::idempotent, [x](const resilience::attempt_context&) { return bare_call(x); },
        [](const std::uint64_t&) { return resilience::call_kind::success; });
    return std::get<std::uint64_t>(out);
  });
  return r;
}

int run(int argc, char** argv) {
  po::options_description flags(std::string("cqrs-bench resilience: ") + summary);
  flags.add_options()("help,h", "this help")("rounds", po::value<int>()->default_value(5), "rounds (medians)")(
      "calls", po::value<std::uint64_t>()->default_value(2'000'000), "calls per thread per measurement")(
      "threads", po::value<int>()->default_value(1), "threads calling at once");
  po::variables_map values;
  po::store(po::parse_command_line(argc, argv, flags), values);
  if (values.count("help") != 0) {
    std::cout << flags;
    return 0;
  }
  const int rounds = values["rounds"].as<int>();
  const auto calls = values["calls"].as<std::uint64_t>();
  const int threads = values["threads"].as<int>();
  if (rounds < 1 || calls < 1 || threads < 1 || threads > 64) throw std::invalid_argument("--rounds, --calls, --threads: 1 or more (threads at most 64)");

  core::metrics_registry registry;
  const core::logger log("bench", core::log_level::warn);
  resilience::telemetry metrics("bench_breaker", registry, log, 3);
  resilience::circuit_breaker breaker(never_opening(), nullptr, &metrics);
  auto config = resilience::defaults_for("payment_provider");
  config.breaker = never_opening();
  config.bulkhead.max_concurrent = 64;
  resilience::pipeline pipeline("bench_pipeline", config, registry, log);

  std::vector<double> bare, guarded, composed;
  for (int round = 0; round < rounds; ++round) {
    const auto r = one_round(threads, calls, breaker, pipeline);
    std::cerr << fmt::format("round {}: bare {:.1f} ns, breaker {:.1f} ns, pipeline {:.1f} ns per call\n", round + 1,
                             r.bare_ns, r.breaker_ns, r.pipeline_ns);
    bare.push_back(r.bare_ns);
    guarded.push_back(r.breaker_ns);
    composed.push_back(r.pipeline_ns);
  }
  if (breaker.state() != resilience::circuit_state::closed) throw std::runtime_error("the breaker left closed");
  print_result("bare_ns", median(bare));
  print_result("breaker_ns", median(guarded));
  print_result("pipeline_ns", median(composed));
  print_result("breaker_overhead_ns", median(guarded) - median(bare));
  print_result("pipeline_overhead_ns", median(composed) - median(bare));
  return 0;
}

}  // namespace

benchmark resilience_benchmark() { return {"resilience", summary, run}; }

}  // namespace cqrs::tools::benchmarks
