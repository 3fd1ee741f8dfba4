#include "tests/e2e/publish.hpp"

#include <cstdlib>
#include <stdexcept>

#include "commands/relay/message_format.hpp"
#include "tests/kafka/kafka_client.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

std::string events_topic() {
  const char* topic = std::getenv("CQRS_KAFKA_TOPIC");
  return topic != nullptr && *topic != '\0' ? topic : "events";
}

void publish(const std::vector<core::recorded_event>& events) {
  kafka::delivery_tally tally;
  auto producer = kafka::make_producer(kafka_bootstrap(), tally);
  for (const auto& event : events) {
    kafka::outgoing_message message{
        std::string(commands::relay::key_for(event)), std::string(commands::relay::value_for(event)), {}};
    const commands::relay::event_headers headers(event);
    for (const auto& h : headers.all()) message.headers.emplace_back(std::string(h.name), std::string(h.value));
    kafka::produce(producer.get(), events_topic(), message);
  }
  kafka::flush(producer.get());
  if (tally.failed != 0) throw std::runtime_error("publishing failed: " + tally.first_error);
}

}  // namespace cqrs::tests
