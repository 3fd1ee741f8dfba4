#pragma once

// The process runtime's member of the events topic's consumer group (its own group,
// cqrs-processes by default): polls batches, hands each event of the followed categories to the
// handler, and commits a batch's offsets only after every event in it was handled. A handler that
// throws leaves the offsets of the event it failed on and after uncommitted, and the consumer is
// made again, so those events come again (handling is idempotent: process_handled).
//
// Follows the embedded broker's bootstrap file like the relay and the projector
// (core/kafka_bootstrap.hpp): a broker restarted on new ports makes the consumer again.

#include <chrono>
#include <cstddef>
#include <functional>
#include <set>
#include <string>

#include "core/config.hpp"
#include "core/events.hpp"
#include "core/kafka_bootstrap.hpp"
#include "core/kafka_handles.hpp"
#include "core/log.hpp"

namespace cqrs::commands::processes {

struct consumer_config {
  std::string bootstrap;
  std::string bootstrap_file;
  std::string topic = "events";
  std::string group = "cqrs-processes";
  core::key_values properties;  // passed through to librdkafka
  std::size_t max_batch = 200;
};

class event_consumer {
 public:
  using handler = std::function<void(const core::recorded_event&)>;

  event_consumer(consumer_config config, std::set<std::string> categories, core::logger log);
  ~event_consumer();
  event_consumer(const event_consumer&) = delete;
  event_consumer& operator=(const event_consumer&) = delete;

  // One batch: the first message waited for up to `timeout`, then what is there already. Returns
  // the number of events handled. The handler's exceptions pass through (see the header comment).
  std::size_t poll(std::chrono::milliseconds timeout, const handler& handle);

  // Gives up the group membership and makes the consumer again (after a failure).
  void reconnect();

 private:
  void subscribe();
  void close();
  void commit(const rd_kafka_topic_partition_list_t& offsets);

  consumer_config config_;
  std::set<std::string> categories_;
  core::logger log_;
  core::kafka::bootstrap_source bootstrap_;
  core::kafka::client_ptr consumer_;
};

}  // namespace cqrs::commands::processes
