// Producing and consuming through the broker process: what goes in comes out, whole and in
// order per key. The broker runs in another process, which is the point of these tests.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/kafka/kafka_client.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests::kafka {
namespace {

constexpr int key_count = 20;
constexpr int messages_per_key = 50;
constexpr std::size_t message_count = key_count * messages_per_key;

outgoing_message numbered_message(const std::string& run, int key, int seq) {
  return outgoing_message{
      fmt::format("roundtrip-{}-key-{}", run, key),
      fmt::format("run={} key={} seq={}", run, key, seq),
      // A binary value and a repeated name: both must survive the trip unchanged.
      {{"run-id", run}, {"seq", std::to_string(seq)}, {"blob", std::string("\0\x01\xff", 3)},
       {"trace", "first"}, {"trace", "second"}},
  };
}

// Keys interleaved, so per-key order is not an accident of writing one key at a time.
std::map<std::string, std::vector<outgoing_message>> produce_numbered(rd_kafka_t* producer, const std::string& run) {
  std::map<std::string, std::vector<outgoing_message>> sent;
  for (int seq = 0; seq < messages_per_key; ++seq) {
    for (int key = 0; key < key_count; ++key) {
      outgoing_message message = numbered_message(run, key, seq);
      produce(producer, events_topic, message);
      sent[message.key].push_back(std::move(message));
    }
  }
  flush(producer);
  return sent;
}

std::map<std::string, std::vector<received_message>> by_key(const std::vector<received_message>& messages) {
  std::map<std::string, std::vector<received_message>> grouped;
  for (const auto& message : messages) grouped[message.key].push_back(message);
  return grouped;
}

// Empty when each key's messages arrived from one partition, complete, unchanged and in order.
std::string first_difference(const std::vector<outgoing_message>& sent, const std::vector<received_message>& got) {
  if (sent.size() != got.size()) return fmt::format("{}: sent {}, received {}", sent.front().key, sent.size(), got.size());
  std::set<std::int32_t> partitions;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    partitions.insert(got[i].partition);
    if (got[i].value != sent[i].value) return fmt::format("{} #{}: value '{}'", sent[i].key, i, got[i].value);
    if (got[i].headers != sent[i].headers) return fmt::format("{} #{}: headers differ", sent[i].key, i);
  }
  if (partitions.size() != 1) return fmt::format("{}: spread over {} partitions", sent.front().key, partitions.size());
  return {};
}

TEST_CASE("an idempotent producer's keyed messages come back whole and in order per key") {
  const std::string run = random_run_id();
  delivery_tally tally;
  core::kafka::client_ptr producer = make_producer(kafka_bootstrap(), tally);
  const auto sent = produce_numbered(producer.get(), run);
  CHECK_MESSAGE(tally.failed == 0, tally.first_error);
  REQUIRE(tally.delivered == message_count);

  const core::kafka::client_ptr consumer = make_consumer(kafka_bootstrap(), "kafka-tests-roundtrip-" + run);
  subscribe(consumer.get(), events_topic);
  const consume_result result = consume_matching(consumer.get(), fmt::format("roundtrip-{}-", run), message_count);
  REQUIRE_MESSAGE(result.messages.size() == message_count, "last consumer error: ", result.last_error);

  const auto received = by_key(result.messages);
  REQUIRE(received.size() == sent.size());
  for (const auto& [key, messages] : sent) {
    CHECK(first_difference(messages, received.at(key)) == "");
  }
}

}  // namespace
}  // namespace cqrs::tests::kafka
