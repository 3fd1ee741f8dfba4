#pragma once

// What every consumer of the events topic shares (the projector, the process runtime):
// librdkafka configurations built from defaults plus the operator's pass-through properties, and
// an event read back from a message in the relay's format (commands/relay/message_format.hpp:
// key = stream id, value = payload, identity and place in the log as headers). Header-only, like
// kafka_handles.hpp, so that core's library does not link librdkafka.

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/config.hpp"
#include "core/events.hpp"
#include "core/kafka_handles.hpp"

namespace cqrs::core::kafka {

// A configuration from `base` followed by the operator's pass-through properties (which may
// override it); throws std::invalid_argument naming a property librdkafka refuses.
inline conf_ptr make_conf(key_values base, const key_values& properties) {
  conf_ptr conf(rd_kafka_conf_new());
  base.insert(base.end(), properties.begin(), properties.end());
  std::array<char, 512> error{};
  for (const auto& [name, value] : base) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK) {
      throw std::invalid_argument(fmt::format("kafka setting {}: {}", name, error.data()));
    }
  }
  return conf;
}

// A consumer made from `conf` (taken over) and subscribed to `topic` in its group, its rebalances
// and messages served by rd_kafka_consumer_poll. Throws std::runtime_error naming what failed.
inline client_ptr subscribed_consumer(conf_ptr conf, const std::string& topic) {
  std::array<char, 512> error{};
  client_ptr consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error.data(), error.size()));
  if (!consumer) throw std::runtime_error(fmt::format("kafka consumer: {}", error.data()));
  conf.release();  // rd_kafka_new took it
  rd_kafka_poll_set_consumer(consumer.get());
  partition_list_ptr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (const auto err = rd_kafka_subscribe(consumer.get(), topics.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("kafka subscribe: {}", rd_kafka_err2str(err)));
  }
  return consumer;
}

// The last value of a header, or nothing.
inline std::optional<std::string_view> header_value(rd_kafka_headers_t* headers, const char* name) {
  const void* value = nullptr;
  std::size_t size = 0;
  if (headers == nullptr || rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(value), size);
}

// The headers of a message, or null when it has none.
inline rd_kafka_headers_t* headers_of(const rd_kafka_message_t& message) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return nullptr;
  return headers;
}

namespace detail {

template <typename Number>
std::optional<Number> number(std::optional<std::string_view> text) {
  Number value{};
  if (!text) return std::nullopt;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
  return value;
}

inline std::optional<std::string> optional_text(rd_kafka_headers_t* headers, const char* name) {
  const auto value = header_value(headers, name);
  if (!value) return std::nullopt;
  return std::string(*value);
}

}  // namespace detail

// The event a message carries, or nothing when it is not an event in the relay's format (a
// topic-start marker, a foreign message). The correlation and causation ids come along when the
// event has them.
inline std::optional<recorded_event> event_from_message(const rd_kafka_message_t& message) {
  rd_kafka_headers_t* headers = headers_of(message);
  if (headers == nullptr) return std::nullopt;
  const auto stream = header_value(headers, "stream-id");
  const auto type = header_value(headers, "event-type");
  const auto version = detail::number<std::int64_t>(header_value(headers, "stream-version"));
  const auto schema = detail::number<int>(header_value(headers, "schema-version"));
  const auto at = detail::number<std::int64_t>(header_value(headers, "recorded-at"));
  const auto position = log_position::parse(header_value(headers, "log-position").value_or("-"));
  const auto id = event_id::parse(header_value(headers, "event-id").value_or(""));
  if (!stream || !type || !version || !schema || !at || !position.ok() || !id.ok()) return std::nullopt;
  const auto parsed_stream = stream_id::parse(*stream);
  if (!parsed_stream.ok()) return std::nullopt;
  recorded_event event{position.value(), parsed_stream.value(), stream_version{*version}, id.value()};
  event.type = std::string(*type);
  event.schema_version = *schema;
  event.payload.assign(static_cast<const char*>(message.payload), message.len);
  event.recorded_at = timestamp{std::chrono::microseconds{*at}};
  event.metadata.correlation_id = detail::optional_text(headers, "correlation-id");
  event.metadata.causation_id = detail::optional_text(headers, "causation-id");
  return event;
}

}  // namespace cqrs::core::kafka
