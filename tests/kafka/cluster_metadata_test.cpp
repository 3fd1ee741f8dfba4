// The broker process starts the cluster shape the engine is designed for: 3 brokers and an
// `events` topic of 6 partitions, each replicated on all 3 (tools/test starts it with defaults).

#include <doctest/doctest.h>

#include <set>
#include <string_view>

#include "tests/kafka/kafka_client.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests::kafka {
namespace {

constexpr int expected_brokers = 3;
constexpr int expected_partitions = 6;

const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t& metadata, std::string_view name) {
  for (int i = 0; i < metadata.topic_cnt; ++i) {
    if (name == metadata.topics[i].topic) return &metadata.topics[i];
  }
  return nullptr;
}

std::set<std::int32_t> broker_ids(const rd_kafka_metadata_t& metadata) {
  std::set<std::int32_t> ids;
  for (int i = 0; i < metadata.broker_cnt; ++i) ids.insert(metadata.brokers[i].id);
  return ids;
}

TEST_CASE("the broker serves 3 brokers and an events topic of 6 replicated partitions") {
  delivery_tally unused;
  const core::kafka::client_ptr client = make_producer(kafka_bootstrap(), unused);
  const core::kafka::metadata_ptr metadata = fetch_metadata(client.get());

  CHECK(broker_ids(*metadata) == std::set<std::int32_t>{1, 2, 3});
  const rd_kafka_metadata_topic_t* events = find_topic(*metadata, events_topic);
  REQUIRE(events != nullptr);
  CHECK(events->err == RD_KAFKA_RESP_ERR_NO_ERROR);
  REQUIRE(events->partition_cnt == expected_partitions);
  for (int i = 0; i < events->partition_cnt; ++i) {
    const rd_kafka_metadata_partition_t& partition = events->partitions[i];
    CAPTURE(partition.id);
    CHECK(partition.replica_cnt == expected_brokers);
    CHECK(broker_ids(*metadata).contains(partition.leader));
  }
}

}  // namespace
}  // namespace cqrs::tests::kafka
