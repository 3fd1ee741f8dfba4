// A consumer group's committed offset is where the next consumer in the group resumes: the
// property projections rely on to pick up after a restart without replaying everything.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "tests/kafka/kafka_client.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests::kafka {
namespace {

constexpr int total_messages = 100;
constexpr int consumed_before_restart = 40;

// One key, so every message lands in one partition and offsets order them.
void produce_sequence(const std::string& key) {
  delivery_tally tally;
  const core::kafka::client_ptr producer = make_producer(kafka_bootstrap(), tally);
  for (int seq = 0; seq < total_messages; ++seq) {
    produce(producer.get(), events_topic, outgoing_message{key, std::to_string(seq), {}});
  }
  flush(producer.get());
  REQUIRE_MESSAGE(tally.delivered == total_messages, "delivery failed: ", tally.first_error);
}

std::vector<std::string> values_of(const std::vector<received_message>& messages) {
  std::vector<std::string> values;
  for (const auto& message : messages) values.push_back(message.value);
  return values;
}

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> values;
  for (int n = from; n < to; ++n) values.push_back(std::to_string(n));
  return values;
}

// Consumes `count` of the key's messages in `group`, commits after the last one, leaves the group.
received_message consume_and_commit(const std::string& group, const std::string& key, int count) {
  const core::kafka::client_ptr consumer = make_consumer(kafka_bootstrap(), group);
  subscribe(consumer.get(), events_topic);
  const consume_result first = consume_matching(consumer.get(), key, count);
  REQUIRE_MESSAGE(first.messages.size() == static_cast<std::size_t>(count), "last consumer error: ", first.last_error);
  CHECK(values_of(first.messages) == numbers(0, count));
  commit_after(consumer.get(), events_topic, first.messages.back());
  REQUIRE(rd_kafka_consumer_close(consumer.get()) == RD_KAFKA_RESP_ERR_NO_ERROR);
  return first.messages.back();
}

TEST_CASE("a restarted consumer resumes right after the group's committed offset") {
  const std::string run = random_run_id();
  const std::string key = fmt::format("offsets-{}", run);
  const std::string group = fmt::format("kafka-tests-offsets-{}", run);
  produce_sequence(key);

  const received_message last_committed = consume_and_commit(group, key, consumed_before_restart);

  const core::kafka::client_ptr restarted = make_consumer(kafka_bootstrap(), group);
  subscribe(restarted.get(), events_topic);
  const auto rest = static_cast<std::size_t>(total_messages - consumed_before_restart);
  const consume_result second = consume_matching(restarted.get(), key, rest);
  REQUIRE_MESSAGE(second.messages.size() == rest, "last consumer error: ", second.last_error);
  CHECK(second.messages.front().partition == last_committed.partition);
  CHECK(second.messages.front().offset == last_committed.offset + 1);
  CHECK(values_of(second.messages) == numbers(consumed_before_restart, total_messages));
}

}  // namespace
}  // namespace cqrs::tests::kafka
