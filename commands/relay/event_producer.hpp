#pragma once

// The relay's Kafka producer: one idempotent librdkafka producer (acks=all, batching) and a
// thread that polls it, so delivery reports arrive while the relay's thread reads PostgreSQL or
// waits for commits. Reports only mark the delivery_tracker; no other work happens on that thread.
//
// Lifetime: the tracker must outlive the producer. Destroying the producer stops it at once:
// queued and in-flight messages are purged (never confirmed), which is what a relay that loses
// its leadership or meets a fatal error needs.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <thread>

#include "commands/relay/delivery_tracker.hpp"
#include "commands/relay/topic_identity.hpp"
#include "core/kafka_handles.hpp"
#include "core/config.hpp"
#include "core/events.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::commands::relay {

// Throws core::config_error when librdkafka refuses one of the properties (start-up checks it,
// so that a typo stops the process instead of failing every publishing run).
void check_producer_properties(const core::key_values& properties);

class event_producer {
 public:
  // Throws std::runtime_error when librdkafka refuses the properties.
  event_producer(const core::key_values& properties, std::string topic, delivery_tracker& tracker,
                 const core::logger& log, core::counter& kafka_errors);
  ~event_producer();
  event_producer(const event_producer&) = delete;
  event_producer& operator=(const event_producer&) = delete;

  // Enqueues the event as a message carrying `id`; false when it was not: librdkafka's queue is
  // full, or it refused the message, which fails the tracker (a publishing run's end).
  bool try_produce(const core::recorded_event& event, ticket id);

  // Waits until every enqueued message is acknowledged or failed, at most `limit`.
  // Returns whether the queue emptied.
  bool flush(std::chrono::milliseconds limit);

  // Drops queued and in-flight messages: their reports arrive as failures.
  void purge() noexcept;

  // The topic as the cluster describes it now (topic_identity.hpp); nothing if it does not answer.
  std::optional<topic_sample> sample_topic(std::chrono::milliseconds timeout);

  // Sends a topic-start marker (message_format.hpp) to each of `partitions` partitions and waits
  // for them, at most `limit`. Call before any event of the run, so that each marker comes first
  // in its partition. Returns whether every one was acknowledged (a failure also fails the tracker).
  bool send_markers(int partitions, const core::log_position& resumes_after, const std::string& epoch,
                    std::chrono::milliseconds limit);

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* client, int error, const char* reason, void* opaque);
  static void on_log(const rd_kafka_t* client, int level, const char* facility, const char* message);
  core::kafka::conf_ptr make_conf(const core::key_values& properties);
  void warm_up();
  void poll_until_stopped(const std::stop_token& stop);
  bool produce_marker(std::int32_t partition, std::string_view resumes_after, std::string_view epoch);

  std::string topic_;
  delivery_tracker& tracker_;
  core::logger log_;
  core::counter& kafka_errors_;
  std::atomic<int> markers_acked_{0};  // from delivery reports of markers
  core::kafka::client_ptr client_;
  std::jthread poller_;  // last: stops (and joins) before the client is destroyed
};

}  // namespace cqrs::commands::relay
