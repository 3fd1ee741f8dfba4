#pragma once

// Helpers of the 'relay' suite: a consumer that watches the events topic from "now", checks of
// what arrived, writers, and cqrs-relay child processes. Every wait is bounded by a deadline.
//
// The database and the topic are shared with other suites and earlier runs: every test writes to
// a category of its own, starts its relay (with a relay name of its own) at the current safe
// head, and looks only at messages keyed by its category.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "core/kafka_handles.hpp"
#include "commands/relay/relay.hpp"
#include "commands/relay/relay_config.hpp"
#include "core/event_store.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::tests::relay {

using steady_clock = std::chrono::steady_clock;

std::string kafka_bootstrap();
std::string kafka_topic();

// `prefix_<random>`: a category (and relay name) of one test.
std::string unique_name(std::string_view prefix);

// Relay options for the test stack, starting at the current safe head.
commands::relay::relay_options relay_options_for(const std::string& name);

core::log_position current_safe_head();

// The checkpoint saved for the relay `name` on the test topic (the beginning if none).
core::log_position saved_checkpoint(const std::string& name);

// One message of the events topic, as the checks need it.
struct relayed_message {
  std::string stream;
  std::int64_t version = 0;
  core::log_position position;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t timestamp_ms = 0;  // CreateTime: when the relay produced it
};

// Reads every partition of the topic from its end at construction time, keeping the messages
// whose key starts with `key_prefix`.
class topic_watch {
 public:
  explicit topic_watch(std::string key_prefix) : topic_watch(std::move(key_prefix), kafka_bootstrap(), kafka_topic()) {}
  topic_watch(std::string key_prefix, const std::string& bootstrap, const std::string& topic);
  // Polls until `count` distinct events (stream, version) have arrived or `limit` passed.
  const std::vector<relayed_message>& collect_until(std::size_t count, std::chrono::seconds limit);
  const std::vector<relayed_message>& messages() const { return messages_; }
  std::size_t distinct_events() const { return distinct_.size(); }

 private:
  void poll_once();

  std::string key_prefix_;
  core::kafka::client_ptr consumer_;
  std::vector<relayed_message> messages_;
  std::map<std::pair<std::string, std::int64_t>, int> distinct_;
};

// What a consumer following the README's rule sees: in each partition, a message whose log
// position is not above the highest seen there is a resend and dropped.
struct delivery_check {
  std::size_t duplicates = 0;
  std::vector<std::string> problems;  // empty: every stream complete and in version order
};

// `expected`: stream -> number of events appended.
delivery_check check_delivery(const std::vector<relayed_message>& messages, const std::map<std::string, std::int64_t>& expected);

// Appends one event per call to `streams` streams of `category`, round robin, `rate` per second,
// on a thread of its own, until stop(); notifies commits like the command pipeline does.
class steady_writer {
 public:
  steady_writer(std::string category, int streams, double rate);
  ~steady_writer();
  steady_writer(const steady_writer&) = delete;
  steady_writer& operator=(const steady_writer&) = delete;

  std::size_t appended_so_far() const;
  // Stops and returns stream -> events appended.
  std::map<std::string, std::int64_t> stop();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

// What a steady_writer appended, and what a topic_watch collected of it.
struct collected_events {
  std::map<std::string, std::int64_t> appended;  // stream -> events appended
  std::size_t total = 0;                          // events appended
  std::vector<relayed_message> messages;          // what the watch collected
};

// The checks of a complete delivery, as doctest CHECKs: `watch` saw `total` distinct events, and
// every stream of `expected` (stream -> number of events appended) arrived complete and in version
// order once resends are dropped; each problem found is reported. Returns the check.
delivery_check check_complete_delivery(const topic_watch& watch, const std::map<std::string, std::int64_t>& expected,
                                       std::size_t total);

// What finish_delivery collected and found.
struct delivery_outcome {
  collected_events collected;
  delivery_check check;
};

// The end of a test with a steady_writer: stops `writer`, collects from `watch` until every event
// it appended has arrived or `limit` passed, calls `stop_relay`, then checks that everything
// appended was delivered (check_complete_delivery).
delivery_outcome finish_delivery(steady_writer& writer, topic_watch& watch, std::chrono::seconds limit,
                                 const std::function<void()>& stop_relay);

// A commands::relay::relay running in this process on a thread of its own, with a metrics
// registry of its own and a logger at `level`; stop() or the destructor stops it and waits.
class running_relay {
 public:
  explicit running_relay(commands::relay::relay_options options, core::log_level level = core::log_level::error);
  running_relay(const running_relay&) = delete;
  running_relay& operator=(const running_relay&) = delete;

  core::metrics_registry& registry() { return registry_; }
  // Requests the stop and waits for run() to return.
  void stop();

 private:
  core::metrics_registry registry_;
  commands::relay::relay relay_;
  std::jthread thread_;
};

// A cqrs-relay child process with the stack's environment plus `settings`, its stderr in a file.
// Killed with SIGKILL when destroyed while running.
class relay_process {
 public:
  relay_process(const std::vector<std::pair<std::string, std::string>>& settings, std::string log_file);
  ~relay_process();
  relay_process(const relay_process&) = delete;
  relay_process& operator=(const relay_process&) = delete;

  void signal(int number);
  // Waits for the exit, at most `limit`; the exit code, or -signal when killed, or nothing.
  std::optional<int> wait(std::chrono::milliseconds limit);
  bool running() const { return pid_ > 0; }
  const std::string& log_file() const { return log_file_; }
  // Whether its log has a line containing `text`.
  bool logged(std::string_view text) const;

 private:
  pid_t pid_ = -1;
  std::string log_file_;
};

// Where test logs go: $CQRS_STACK_DIR (kept with the stack's logs) or /tmp.
std::string log_path(std::string_view name);

// Polls `done` every 20 ms until it holds or `limit` passes.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit);

}  // namespace cqrs::tests::relay
