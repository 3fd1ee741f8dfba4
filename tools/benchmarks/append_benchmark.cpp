// cqrs-bench append: N writer threads, each with its own event_store, append one event per call
// to their own existing streams with the exact expected version, for a fixed time. Prints the
// rate and the latency percentiles of the append calls as RESULT lines.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "tools/benchmarks/append_writer.hpp"
#include "tools/benchmarks/benchmark.hpp"
#include "tools/benchmarks/latency_summary.hpp"
#include "tools/benchmarks/result_lines.hpp"

namespace cqrs::tools::benchmarks {

namespace {

namespace po = boost::program_options;

constexpr const char* summary = "append one event per call to existing streams, exact expected versions";

po::options_description append_flags() {
  po::options_description flags("cqrs-bench append: " + std::string(summary));
  flags.add_options()
      ("help,h", "this help")
      ("url", po::value<std::string>(), "PostgreSQL URL (default: $CQRS_PG_URL)")
      ("writers", po::value<int>()->default_value(1), "concurrent writers, one connection each")
      ("seconds", po::value<int>()->default_value(10), "length of the timed phase")
      ("streams", po::value<int>()->default_value(1000), "streams, split evenly among the writers")
      ("payload-bytes", po::value<std::size_t>()->default_value(300), "payload size of each event");
  return flags;
}

std::string url_from(const po::variables_map& values) {
  if (values.count("url") != 0) return values["url"].as<std::string>();
  const char* env = std::getenv("CQRS_PG_URL");
  if (env == nullptr || *env == '\0') throw std::invalid_argument("--url or CQRS_PG_URL is required");
  return env;
}

append_settings settings_from(const po::variables_map& values) {
  append_settings settings{
      .url = url_from(values),
      .writers = values["writers"].as<int>(),
      .duration = std::chrono::seconds(values["seconds"].as<int>()),
      .streams = values["streams"].as<int>(),
      .payload_bytes = values["payload-bytes"].as<std::size_t>(),
  };
  if (settings.writers < 1 || settings.writers > 1000) throw std::invalid_argument("--writers must be 1 to 1000");
  if (settings.streams < settings.writers) throw std::invalid_argument("--streams must be at least --writers");
  if (settings.duration.count() < 1) throw std::invalid_argument("--seconds must be at least 1");
  if (settings.payload_bytes < 1) throw std::invalid_argument("--payload-bytes must be at least 1");
  return settings;
}

// Lets every writer finish its untimed preparation before the clock starts for all of them.
class start_gate {
 public:
  explicit start_gate(int writers) : ready_(writers) {}

  // A writer's side: returns the deadline once the gate opens.
  bench_clock::time_point arrive_and_wait() {
    ready_.count_down();
    go_.wait();
    return deadline_;
  }

  // The coordinator's side: returns the start time.
  bench_clock::time_point open(std::chrono::seconds duration) {
    ready_.wait();
    const auto start = bench_clock::now();
    deadline_ = start + duration;
    go_.count_down();
    return start;
  }

 private:
  std::latch ready_;
  std::latch go_{1};
  bench_clock::time_point deadline_{};  // written before go_ opens, read after
};

void run_writer(append_writer& writer, start_gate& gate, std::exception_ptr& failure) {
  try {
    writer.prepare();
  } catch (...) {
    failure = std::current_exception();
  }
  const auto deadline = gate.arrive_and_wait();
  if (failure) return;
  try {
    writer.run_until(deadline);
  } catch (...) {
    failure = std::current_exception();
  }
}

struct run_totals {
  std::uint64_t appends = 0;
  std::uint64_t conflicts = 0;
  double seconds = 0;
  std::vector<std::uint32_t> latencies_us;
};

run_totals collect(std::vector<std::unique_ptr<append_writer>>& writers, bench_clock::time_point start) {
  run_totals totals;
  auto last = start;
  for (auto& writer : writers) {
    auto& report = writer->report();
    totals.appends += report.appends;
    totals.conflicts += report.conflicts;
    totals.latencies_us.insert(totals.latencies_us.end(), report.latencies_us.begin(), report.latencies_us.end());
    last = std::max(last, report.finished);
  }
  totals.seconds = std::chrono::duration<double>(last - start).count();
  return totals;
}

run_totals run_writers(const append_settings& settings) {
  std::vector<std::unique_ptr<append_writer>> writers;
  for (int index = 0; index < settings.writers; ++index) writers.push_back(std::make_unique<append_writer>(settings, index));
  std::vector<std::exception_ptr> failures(writers.size());
  start_gate gate(settings.writers);
  bench_clock::time_point start;
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < writers.size(); ++i) {
      threads.emplace_back(run_writer, std::ref(*writers[i]), std::ref(gate), std::ref(failures[i]));
    }
    start = gate.open(settings.duration);
  }  // joins every writer
  for (const auto& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
  return collect(writers, start);
}

void print_totals(const append_settings& settings, run_totals& totals) {
  const auto latency = summarize_latencies(totals.latencies_us);
  print_result("writers", static_cast<std::uint64_t>(settings.writers));
  print_result("streams", static_cast<std::uint64_t>(settings.streams));
  print_result("payload_bytes", static_cast<std::uint64_t>(settings.payload_bytes));
  print_result("appends", totals.appends);
  print_result("conflicts", totals.conflicts);
  print_result("seconds", totals.seconds);
  print_result("events_per_s", static_cast<double>(totals.appends) / totals.seconds);
  print_result("latency_mean_ms", latency.mean_ms);
  print_result("latency_p50_ms", latency.p50_ms);
  print_result("latency_p90_ms", latency.p90_ms);
  print_result("latency_p99_ms", latency.p99_ms);
  print_result("latency_max_ms", latency.max_ms);
}

int run_append(int argc, char** argv) {
  const auto flags = append_flags();
  po::variables_map values;
  try {
    po::store(po::parse_command_line(argc, argv, flags), values);
    po::notify(values);
    if (values.count("help") != 0) {
      std::cout << flags;
      return 0;
    }
    const auto settings = settings_from(values);
    auto totals = run_writers(settings);
    print_totals(settings, totals);
    return totals.conflicts == 0 ? 0 : 1;
  } catch (const po::error& e) {
    std::cerr << "cqrs-bench append: " << e.what() << "\n" << flags;
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "cqrs-bench append: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace

benchmark append_benchmark() { return benchmark{"append", summary, run_append}; }

}  // namespace cqrs::tools::benchmarks
