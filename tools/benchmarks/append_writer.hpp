#pragma once

// One writer of the append benchmark: its own event_store (so its own connection), its own
// disjoint set of existing streams, and the exact version of each tracked locally, so every
// append states an exact expected version and none should conflict.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/event_store.hpp"

namespace cqrs::tools::benchmarks {

using bench_clock = std::chrono::steady_clock;

struct append_settings {
  std::string url;
  int writers = 1;
  std::chrono::seconds duration{10};
  int streams = 1000;
  std::size_t payload_bytes = 300;
};

// What one writer did during the timed phase.
struct writer_report {
  std::uint64_t appends = 0;
  std::uint64_t conflicts = 0;             // must stay 0: the streams are disjoint
  std::vector<std::uint32_t> latencies_us; // one per append call
  bench_clock::time_point finished{};
};

// Stream `bench-N` for N in [0, settings.streams) belongs to writer N % settings.writers.
std::string bench_stream_name(int number);

class append_writer {
 public:
  append_writer(const append_settings& settings, int index);
  append_writer(const append_writer&) = delete;
  append_writer& operator=(const append_writer&) = delete;

  // Untimed: connects, learns (or creates) the versions of its streams, and appends once to warm
  // the connection's prepared statement.
  void prepare();
  // Timed: appends one event per call, cycling over its streams, until `deadline`.
  void run_until(bench_clock::time_point deadline);

  writer_report& report() { return report_; }

 private:
  struct tracked_stream {
    core::stream_id id;
    core::stream_version version;
  };

  // Appends one event at the stream's exact version; returns whether it was accepted.
  bool append_one(tracked_stream& stream);
  std::vector<core::new_event> one_event() const;

  core::event_store store_;
  std::vector<tracked_stream> streams_;
  std::string payload_;
  writer_report report_;
};

}  // namespace cqrs::tools::benchmarks
