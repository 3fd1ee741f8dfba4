#include "tools/benchmarks/append_writer.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

namespace cqrs::tools::benchmarks {

namespace {

constexpr const char* event_type = "bench.appended";

// Printable random bytes: the payload's content does not matter below PostgreSQL's TOAST
// threshold (about 2 kB, nothing is compressed), only its size does.
std::string random_payload(std::size_t bytes, int seed) {
  std::mt19937 generator(static_cast<std::mt19937::result_type>(seed));
  std::uniform_int_distribution<int> letter('a', 'z');
  std::string payload(bytes, ' ');
  std::generate(payload.begin(), payload.end(), [&] { return static_cast<char>(letter(generator)); });
  return payload;
}

core::stream_id parse_stream(const std::string& name) {
  auto parsed = core::stream_id::parse(name);
  if (!parsed) throw std::invalid_argument(parsed.error().detail);
  return parsed.value();
}

std::uint32_t micros_since(bench_clock::time_point started) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(bench_clock::now() - started);
  return static_cast<std::uint32_t>(std::min<std::int64_t>(elapsed.count(), UINT32_MAX));
}

}  // namespace

std::string bench_stream_name(int number) { return fmt::format("bench-{}", number); }

append_writer::append_writer(const append_settings& settings, int index)
    : store_(core::store_options{.url = settings.url, .limits = {}, .retry = {}, .upcasters = nullptr,
                                 .notifier = nullptr}),
      payload_(random_payload(settings.payload_bytes, index)) {
  for (int number = index; number < settings.streams; number += settings.writers) {
    streams_.push_back(tracked_stream{parse_stream(bench_stream_name(number)), core::stream_version{}});
  }
}

std::vector<core::new_event> append_writer::one_event() const {
  std::vector<core::new_event> events;
  events.push_back(core::new_event{.type = event_type, .schema_version = 1, .payload = payload_, .id = std::nullopt});
  return events;
}

void append_writer::prepare() {
  for (auto& stream : streams_) {
    stream.version = store_.current_version(stream.id);
    if (stream.version.value() == 0 && !append_one(stream)) {
      throw std::runtime_error("could not create stream " + stream.id.str());
    }
  }
  if (!streams_.empty() && !append_one(streams_.front())) throw std::runtime_error("warm-up append conflicted");
  report_ = writer_report{};
  report_.latencies_us.reserve(std::size_t{1} << 16);
}

bool append_writer::append_one(tracked_stream& stream) {
  auto outcome = store_.append(stream.id, core::expected_version::exact(stream.version), one_event());
  if (outcome) {
    stream.version = outcome.value().version;
    return true;
  }
  if (outcome.code() != core::errc::version_conflict) {
    throw std::runtime_error(fmt::format("append to {} failed: {}", stream.id.str(), outcome.error().detail));
  }
  stream.version = outcome.error().actual_version.value_or(stream.version);
  return false;
}

void append_writer::run_until(bench_clock::time_point deadline) {
  if (streams_.empty()) throw std::logic_error("a writer without streams");
  auto next = streams_.begin();
  while (bench_clock::now() < deadline) {
    const auto started = bench_clock::now();
    const bool accepted = append_one(*next);
    report_.latencies_us.push_back(micros_since(started));
    ++(accepted ? report_.appends : report_.conflicts);
    if (++next == streams_.end()) next = streams_.begin();
  }
  report_.finished = bench_clock::now();
}

}  // namespace cqrs::tools::benchmarks
