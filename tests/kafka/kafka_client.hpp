#pragma once

// Small synchronous Kafka helpers for the 'kafka' suite. The broker runs in another process
// (tools/test starts cqrs-kafka-broker); the suite reaches it through CQRS_KAFKA_BOOTSTRAP.
// Every wait is bounded by a deadline so a broken broker fails the suite instead of hanging it.
//
// The broker outlives a single run of the suite and its topics hold other runs' messages, so
// each test tags what it writes with a fresh run id and reads back only what carries that tag.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/kafka_handles.hpp"

namespace cqrs::tests::kafka {

using steady_clock = std::chrono::steady_clock;
using header_list = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::chrono::seconds wait_limit{20};
inline constexpr const char* events_topic = "events";

// 16 random hex digits.
std::string random_run_id();

struct delivery_tally {
  std::size_t delivered = 0;
  std::size_t failed = 0;
  std::string first_error;
};

// An idempotent producer (acks=all); delivery reports are counted into `tally`, which must
// outlive the producer. Reports arrive during flush() on the calling thread.
core::kafka::client_ptr make_producer(const std::string& bootstrap, delivery_tally& tally);

// A consumer in `group` with manual commits, starting at the earliest offset when the group
// has none, and timeouts short enough that rebalances take seconds, not tens of seconds.
core::kafka::client_ptr make_consumer(const std::string& bootstrap, const std::string& group);

struct outgoing_message {
  std::string key;
  std::string value;
  header_list headers;
};

// Enqueues one message (copied); waits for room while the local queue is full.
void produce(rd_kafka_t* producer, const std::string& topic, const outgoing_message& message);

// Waits until every enqueued message has been acknowledged or failed.
void flush(rd_kafka_t* producer);

void subscribe(rd_kafka_t* consumer, const std::string& topic);

struct received_message {
  std::string key;
  std::string value;
  header_list headers;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

struct consume_result {
  std::vector<received_message> messages;
  std::string last_error;  // the last consumer error seen, to explain a shortfall
};

// Polls until `count` messages whose key starts with `key_prefix` have arrived or `wait_limit`
// has passed; other messages are skipped. Stops polling at the count, so the consumer's
// position never runs past the last message returned.
consume_result consume_matching(rd_kafka_t* consumer, std::string_view key_prefix, std::size_t count);

// Synchronously commits the offset after `message`, for its partition only.
void commit_after(rd_kafka_t* consumer, const std::string& topic, const received_message& message);

// Cluster metadata for all topics.
core::kafka::metadata_ptr fetch_metadata(rd_kafka_t* client);

}  // namespace cqrs::tests::kafka
