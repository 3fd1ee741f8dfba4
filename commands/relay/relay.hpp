#pragma once

// The outbox relay: carries every committed event of the global log to the events topic, keyed
// by stream id, in log order, and keeps a checkpoint of how far Kafka has confirmed.
//
//   standby ──(advisory lock acquired)──► leading ──(lock lost / PostgreSQL failure)──► standby
//                                            │
//            one publishing run after another: read from the checkpoint, produce, confirm;
//            a failed delivery ends the run, and the next one starts again from the checkpoint
//
// Guarantees (README.md): nothing committed is skipped (the store's gap-free reader); the
// checkpoint never passes an event that is not confirmed (delivery_tracker); after a crash,
// lost leadership or a failed run, what is sent again lies after the checkpoint and carries its
// log position. One instance publishes per (name, topic) at a time (leader_session).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>

#include "core/kafka_bootstrap.hpp"
#include "commands/relay/delivery_tracker.hpp"
#include "commands/relay/relay_config.hpp"
#include "commands/relay/relay_metrics.hpp"
#include "commands/relay/topic_identity.hpp"
#include "core/event_store.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::commands::relay {

class event_producer;
class leader_session;
class log_reader;

class relay {
 public:
  using confirmed_hook = std::function<void(const confirmed_event&)>;

  // Throws core::config_error when librdkafka refuses the producer's properties.
  relay(relay_options options, const core::logger& log, core::metrics_registry& registry);
  ~relay();
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  // Called on the relay's thread for every confirmed event, in log order (benchmarks, tests).
  // Set it before run().
  void set_confirmed_hook(confirmed_hook hook) { hook_ = std::move(hook); }

  // Stands by, and publishes while it holds the lock, until `stop` is requested; then stops
  // reading, waits for in-flight deliveries (at most shutdown_grace), saves the checkpoint and
  // returns. PostgreSQL and Kafka failures are logged and retried here, never thrown.
  void run(std::stop_token stop);

 private:
  // Positions of the current leadership: read up to, confirmed up to, saved up to.
  struct cursor {
    core::log_position read;
    core::log_position confirmed;
    core::log_position saved;
  };
  // broker_moved: the bootstrap file names new ports; topic_changed: a delivery went to another
  // topic (topic_identity.hpp). Both start the next run at once, the others after a pause.
  enum class run_end { stopped, producer_failed, broker_moved, topic_changed };

  void attempt_lead(leader_session& leader, const std::stop_token& stop);
  void lead(leader_session& leader, const std::stop_token& stop);
  run_end publish(leader_session& leader, log_reader& reader, cursor& at, const std::stop_token& stop);
  run_end publish_run(event_producer& producer, delivery_tracker& tracker, leader_session& leader, log_reader& reader,
                      cursor& at, const std::stop_token& stop);
  core::key_values properties_for(const std::string& bootstrap) const;
  bool confirm_topic(event_producer& producer, const cursor& at);
  bool mark_topic_start(event_producer& producer, const topic_sample& sample, const cursor& at);
  void fill(event_producer& producer, log_reader& reader, delivery_tracker& tracker, cursor& at);
  bool produce_batch(event_producer& producer, delivery_tracker& tracker, cursor& at,
                     const std::vector<core::recorded_event>& events);
  bool harvest(delivery_tracker& tracker, cursor& at);
  void keep_lead(leader_session& leader, cursor& at);
  bool save_if_moved(leader_session& leader, cursor& at);
  void report(const delivery_tracker& tracker, const cursor& at);
  void update_lag(const delivery_tracker& tracker, const cursor& at);
  void write_metrics_file() const;
  void finish(event_producer& producer, delivery_tracker& tracker, leader_session& leader, cursor& at);
  bool pause(std::chrono::milliseconds duration, const std::stop_token& stop);

  relay_options options_;
  core::logger log_;
  core::metrics_registry& registry_;
  relay_metrics metrics_;
  core::key_values producer_properties_;
  core::event_store store_;  // the relay thread's own: the safe head for the lag gauge
  core::kafka::bootstrap_source bootstrap_;
  // What this process saw of the topic, across runs and leaderships (topic_identity.hpp).
  topic_identity identity_;
  bool markers_owed_ = false;  // a changed topic was found and its markers are not all acknowledged
  confirmed_hook hook_;
  std::chrono::steady_clock::time_point next_save_{};
  std::chrono::steady_clock::time_point next_report_{};
  std::chrono::steady_clock::time_point next_progress_log_{};
  double events_at_last_log_ = 0;
  bool standing_by_ = false;  // logged once per stretch of standing by
  std::mutex pause_mutex_;
  std::condition_variable_any pause_;
};

}  // namespace cqrs::commands::relay
