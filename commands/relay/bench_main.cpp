// cqrs-relay-bench: the relay's benchmark, run by `tools/bench relay` on a private stack
// with PostgreSQL's default durability. In one run:
//
//   1. load:    --events events appended through the store's append (1000 per append, 4 writers)
//   2. drain:   a relay started before them (in this process) publishes them all; the time from
//               its start to the last acknowledgement gives relay.drain_events_per_s
//   3. latency: writers append one event per call at a steady --rate for --seconds; for each event
//               the time from its append returning (committed) to Kafka's acknowledgement of it
//               (the delivery report) gives relay.latency_p50_ms / _p99_ms
//
// Prints `BENCH <key> <value>` lines on stdout, everything else on stderr.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "commands/relay/relay.hpp"
#include "core/commit_notifier.hpp"
#include "core/event_store.hpp"

namespace cqrs::commands::relay::bench {
namespace {

using namespace std::chrono_literals;
using steady_clock = std::chrono::steady_clock;
using system_clock = std::chrono::system_clock;

struct bench_options {
  std::size_t events = 1'000'000;
  std::size_t payload_bytes = 200;
  int load_writers = 4;
  double rate = 2000;  // appends per second in the latency phase
  double seconds = 20;
  int latency_writers = 4;
  std::size_t batch = 2000;
};

struct environment {
  std::string pg_url;
  std::string bootstrap;
  std::string topic;
};

void print_bench(std::string_view key, double value) { std::cout << fmt::format("BENCH {} {:.2f}\n", key, value) << std::flush; }

std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') throw std::runtime_error(fmt::format("{} is not set", name));
  return value;
}

environment read_environment() {
  const char* topic = std::getenv("CQRS_KAFKA_TOPIC");
  return {required_env("CQRS_PG_URL"), required_env("CQRS_KAFKA_BOOTSTRAP"), topic != nullptr ? topic : "events"};
}

std::optional<bench_options> parse_options(int argc, char** argv) {
  namespace po = boost::program_options;
  bench_options o;
  po::options_description flags("cqrs-relay-bench (settings from CQRS_PG_URL, CQRS_KAFKA_BOOTSTRAP, CQRS_KAFKA_TOPIC)");
  flags.add_options()("help,h", "show this help")
      ("events", po::value(&o.events)->default_value(o.events), "events to load, then drain")
      ("payload-bytes", po::value(&o.payload_bytes)->default_value(o.payload_bytes), "payload size")
      ("load-writers", po::value(&o.load_writers)->default_value(o.load_writers), "writers loading the events")
      ("rate", po::value(&o.rate)->default_value(o.rate), "appends per second in the latency phase")
      ("seconds", po::value(&o.seconds)->default_value(o.seconds), "length of the latency phase")
      ("latency-writers", po::value(&o.latency_writers)->default_value(o.latency_writers), "writers in the latency phase")
      ("batch", po::value(&o.batch)->default_value(o.batch), "the relay's read batch (CQRS_RELAY_BATCH)");
  po::variables_map parsed;
  po::store(po::parse_command_line(argc, argv, flags), parsed);
  po::notify(parsed);
  if (parsed.count("help") != 0) {
    std::cout << flags << "\n";
    return std::nullopt;
  }
  return o;
}

std::string run_tag() {
  std::random_device device;
  return fmt::format("{:08x}", device());
}

core::store_options store_options_for(const environment& env, core::commit_notifier* notifier = nullptr) {
  core::store_options options;
  options.url = env.pg_url;
  options.notifier = notifier;
  return options;
}

std::vector<core::new_event> event_batch(std::size_t count, std::size_t payload_bytes) {
  std::vector<core::new_event> events(count);
  for (auto& event : events) event = core::new_event{"bench.loaded", 1, std::string(payload_bytes, 'x'), std::nullopt};
  return events;
}

// Runs `work(index)` on `count` threads and rethrows the first failure after all have ended.
template <typename Work>
void on_threads(int count, Work work) {
  std::mutex mutex;
  std::exception_ptr failure;
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < count; ++i) {
      threads.emplace_back([&, i] {
        try {
          work(i);
        } catch (...) {
          const std::lock_guard lock(mutex);
          if (!failure) failure = std::current_exception();
        }
      });
    }
  }
  if (failure) std::rethrow_exception(failure);
}

double seconds_since(steady_clock::time_point start) { return std::chrono::duration<double>(steady_clock::now() - start).count(); }

// Appends o.events events, 1000 per append (the store's limit), each append to a new stream.
double load(const environment& env, const bench_options& o, const std::string& tag) {
  constexpr std::size_t per_append = 1000;
  const std::size_t appends = (o.events + per_append - 1) / per_append;
  std::atomic<std::size_t> next{0};
  const auto start = steady_clock::now();
  on_threads(o.load_writers, [&](int) {
    core::event_store store(store_options_for(env));
    for (std::size_t i = next++; i < appends; i = next++) {
      const auto stream = core::stream_id::parse(fmt::format("benchload_{}-{}", tag, i)).value();
      const std::size_t count = std::min(per_append, o.events - i * per_append);
      (void)store.append(stream, core::expected_version::no_stream(), event_batch(count, o.payload_bytes)).value();
    }
  });
  return static_cast<double>(o.events) / seconds_since(start);
}

// Sees every confirmed event on the relay's thread: counts them, and records acknowledgement
// times while recording is on.
class observer {
 public:
  void on_confirmed(const confirmed_event& event) {
    confirmed_.fetch_add(1);
    if (!recording_.load()) return;
    const std::lock_guard lock(mutex_);
    acks_.emplace_back(event.position, event.acked_at);
  }
  std::size_t confirmed() const { return confirmed_.load(); }
  void start_recording() { recording_ = true; }
  std::vector<std::pair<core::log_position, system_clock::time_point>> acks() const {
    const std::lock_guard lock(mutex_);
    return acks_;
  }

 private:
  std::atomic<std::size_t> confirmed_{0};
  std::atomic<bool> recording_{false};
  mutable std::mutex mutex_;
  std::vector<std::pair<core::log_position, system_clock::time_point>> acks_;
};

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

using commit_times = std::vector<std::pair<core::log_position, system_clock::time_point>>;

// One writer of the latency phase: one event per append at fixed instants (no catching up in
// bursts after a stall: a late append is simply late), to 50 streams of its own.
commit_times append_steadily(const environment& env, core::commit_notifier& notifier, const bench_options& o,
                             const std::string& tag, int writer) {
  core::event_store store(store_options_for(env, &notifier));
  const auto period = std::chrono::duration_cast<steady_clock::duration>(
      std::chrono::duration<double>(o.latency_writers / o.rate));
  const auto count = static_cast<std::size_t>(o.rate * o.seconds / o.latency_writers);
  commit_times committed;
  committed.reserve(count);
  auto next = steady_clock::now() + period * writer / o.latency_writers;
  for (std::size_t i = 0; i < count; ++i, next += period) {
    std::this_thread::sleep_until(next);
    const auto stream = core::stream_id::parse(fmt::format("benchlat_{}-{}-{}", tag, writer, i % 50)).value();
    const auto done = store.append(stream, core::expected_version::any(), event_batch(1, o.payload_bytes)).value();
    committed.emplace_back(done.last_position(), system_clock::now());
  }
  return committed;
}

commit_times run_appenders(const environment& env, const bench_options& o, const std::string& tag) {
  core::commit_notifier notifier(env.pg_url);
  std::vector<commit_times> per_writer(static_cast<std::size_t>(o.latency_writers));
  on_threads(o.latency_writers, [&](int w) { per_writer[static_cast<std::size_t>(w)] = append_steadily(env, notifier, o, tag, w); });
  commit_times all;
  for (auto& part : per_writer) all.insert(all.end(), part.begin(), part.end());
  return all;
}

double percentile(std::vector<double> sorted_values, double p) {
  if (sorted_values.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted_values.size() - 1) + 0.5);
  return sorted_values[std::min(rank, sorted_values.size() - 1)];
}

// Milliseconds from each append's return to its acknowledgement, matched by log position.
std::vector<double> latencies_ms(commit_times committed, commit_times acked) {
  std::sort(committed.begin(), committed.end());
  std::sort(acked.begin(), acked.end());
  std::vector<double> out;
  auto ack = acked.begin();
  for (const auto& [position, at] : committed) {
    while (ack != acked.end() && ack->first < position) ++ack;
    if (ack == acked.end() || ack->first != position) continue;
    out.push_back(std::max(0.0, std::chrono::duration<double, std::milli>(ack->second - at).count()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The baseline: reading the same events with the store's reader alone, no Kafka.
double read_baseline(const environment& env, const bench_options& o, core::log_position start) {
  core::event_store store(store_options_for(env));
  std::size_t seen = 0;
  const auto begin = steady_clock::now();
  (void)store.for_each_log_batch(std::nullopt, start, o.batch, [&](const core::log_batch& b) { seen += b.events.size(); }).value();
  return static_cast<double>(seen) / seconds_since(begin);
}

relay_options relay_options_for(const environment& env, const bench_options& o, const std::string& tag,
                                core::log_position start) {
  relay_options options;
  options.pg_url = env.pg_url;
  options.kafka.bootstrap = env.bootstrap;
  options.kafka.topic = env.topic;
  options.name = "bench-" + tag;
  options.batch = o.batch;
  options.start_position = start;
  return options;
}

// CPU seconds of this process so far (all threads): during the drain, that is the relay's.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void drain_phase(const bench_options& o, const observer& seen, steady_clock::time_point relay_started, double cpu_before) {
  if (!wait_until([&] { return seen.confirmed() >= o.events; }, std::chrono::seconds{600})) {
    throw std::runtime_error(fmt::format("drain incomplete: {} of {} confirmed", seen.confirmed(), o.events));
  }
  const double elapsed = seconds_since(relay_started);
  print_bench("relay.drain_seconds", elapsed);
  print_bench("relay.drain_events_per_s", static_cast<double>(o.events) / elapsed);
  print_bench("relay.drain_cpu_us_per_event", (process_cpu_seconds() - cpu_before) * 1e6 / static_cast<double>(o.events));
}

void latency_phase(const environment& env, const bench_options& o, const std::string& tag, observer& seen) {
  seen.start_recording();
  const auto start = steady_clock::now();
  const auto committed = run_appenders(env, o, tag);
  print_bench("relay.latency_appends_per_s", static_cast<double>(committed.size()) / seconds_since(start));
  const auto target = o.events + committed.size();
  if (!wait_until([&] { return seen.confirmed() >= target; }, std::chrono::seconds{60})) {
    std::cerr << fmt::format("warning: {} of {} latency events confirmed\n", seen.confirmed() - o.events, committed.size());
  }
  const auto latencies = latencies_ms(committed, seen.acks());
  print_bench("relay.latency_samples", static_cast<double>(latencies.size()));
  print_bench("relay.latency_p50_ms", percentile(latencies, 50));
  print_bench("relay.latency_p99_ms", percentile(latencies, 99));
  print_bench("relay.latency_max_ms", latencies.empty() ? 0 : latencies.back());
}

void run(const environment& env, const bench_options& o) {
  const std::string tag = run_tag();
  const core::log_position start = core::event_store(store_options_for(env)).safe_head();
  std::cerr << fmt::format("loading {} events ({} bytes each)\n", o.events, o.payload_bytes);
  print_bench("relay.load_events_per_s", load(env, o, tag));
  print_bench("relay.baseline_read_events_per_s", read_baseline(env, o, start));
  core::metrics_registry registry;
  relay publisher(relay_options_for(env, o, tag, start), core::logger("relay-bench", core::log_level::warn), registry);
  observer seen;
  publisher.set_confirmed_hook([&seen](const confirmed_event& e) { seen.on_confirmed(e); });
  std::cerr << "draining\n";
  const double cpu_before = process_cpu_seconds();
  const auto relay_started = steady_clock::now();
  std::jthread worker([&](std::stop_token stop) { publisher.run(stop); });
  drain_phase(o, seen, relay_started, cpu_before);
  std::cerr << fmt::format("latency: {} appends/s for {} s\n", o.rate, o.seconds);
  latency_phase(env, o, tag, seen);
}

}  // namespace
}  // namespace cqrs::commands::relay::bench

int main(int argc, char** argv) {
  try {
    const auto options = cqrs::commands::relay::bench::parse_options(argc, argv);
    if (!options) return EXIT_SUCCESS;
    cqrs::commands::relay::bench::run(cqrs::commands::relay::bench::read_environment(), *options);
    return EXIT_SUCCESS;
  } catch (const std::exception& e) {
    std::cerr << "cqrs-relay-bench: " << e.what() << "\n";
    return EXIT_FAILURE;
  }
}
