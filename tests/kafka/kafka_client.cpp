#include "tests/kafka/kafka_client.hpp"

#include <algorithm>
#include <array>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

namespace cqrs::tests::kafka {

namespace {

using properties = std::vector<std::pair<std::string, std::string>>;

constexpr std::chrono::milliseconds poll_interval{100};

int milliseconds_left(steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

core::kafka::conf_ptr make_conf(const properties& settings) {
  core::kafka::conf_ptr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(fmt::format("{}={}: {}", name, value, error.data()));
    }
  }
  return conf;
}

core::kafka::client_ptr make_client(rd_kafka_type_t type, core::kafka::conf_ptr conf) {
  std::array<char, 512> error{};
  core::kafka::client_ptr client(rd_kafka_new(type, conf.get(), error.data(), error.size()));
  if (!client) throw std::runtime_error(fmt::format("rd_kafka_new: {}", error.data()));
  conf.release();  // rd_kafka_new took ownership on success
  return client;
}

// Runs on the thread calling poll/flush, so the tally needs no locking.
void count_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto& tally = *static_cast<delivery_tally*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++tally.delivered;
    return;
  }
  if (tally.failed++ == 0) tally.first_error = rd_kafka_err2str(message->err);
}

core::kafka::headers_ptr make_headers(const header_list& headers) {
  core::kafka::headers_ptr result(rd_kafka_headers_new(headers.size()));
  for (const auto& [name, value] : headers) {
    rd_kafka_header_add(result.get(), name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }
  return result;
}

rd_kafka_vu_t bytes_field(rd_kafka_vtype_t type, const std::string& bytes) {
  rd_kafka_vu_t field{};
  field.vtype = type;
  // librdkafka's API is not const-correct; RD_KAFKA_MSG_F_COPY below means it only reads.
  field.u.mem.ptr = const_cast<char*>(bytes.data());
  field.u.mem.size = bytes.size();
  return field;
}

// Returns whether it was enqueued; false only while the local queue is full.
bool try_produce(rd_kafka_t* producer, const std::string& topic, const outgoing_message& message) {
  core::kafka::headers_ptr headers = make_headers(message.headers);
  std::array<rd_kafka_vu_t, 5> fields{};
  fields[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  fields[0].u.cstr = topic.c_str();
  fields[1] = bytes_field(RD_KAFKA_VTYPE_KEY, message.key);
  fields[2] = bytes_field(RD_KAFKA_VTYPE_VALUE, message.value);
  fields[3].vtype = RD_KAFKA_VTYPE_HEADERS;
  fields[3].u.headers = headers.get();
  fields[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  fields[4].u.i = RD_KAFKA_MSG_F_COPY;
  const core::kafka::error_ptr error(rd_kafka_produceva(producer, fields.data(), fields.size()));
  if (!error) {
    headers.release();  // the message owns them now
    return true;
  }
  if (rd_kafka_error_code(error.get()) == RD_KAFKA_RESP_ERR__QUEUE_FULL) return false;
  throw std::runtime_error(fmt::format("produce to {}: {}", topic, rd_kafka_error_string(error.get())));
}

header_list headers_of(const rd_kafka_message_t& message) {
  header_list result;
  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return result;
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    result.emplace_back(name, value == nullptr ? std::string() : std::string(static_cast<const char*>(value), size));
  }
  return result;
}

std::string bytes_of(const void* data, std::size_t size) {
  return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
}

received_message to_received(const rd_kafka_message_t& message) {
  return received_message{bytes_of(message.key, message.key_len), bytes_of(message.payload, message.len),
                          headers_of(message), message.partition, message.offset};
}

}  // namespace

std::string random_run_id() {
  std::random_device source;
  std::uniform_int_distribution<std::uint64_t> bits;
  return fmt::format("{:016x}", bits(source));
}

core::kafka::client_ptr make_producer(const std::string& bootstrap, delivery_tally& tally) {
  core::kafka::conf_ptr conf = make_conf({{"bootstrap.servers", bootstrap},
                             {"enable.idempotence", "true"},
                             {"acks", "all"},
                             {"linger.ms", "5"}});
  rd_kafka_conf_set_opaque(conf.get(), &tally);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), count_delivery);
  return make_client(RD_KAFKA_PRODUCER, std::move(conf));
}

core::kafka::client_ptr make_consumer(const std::string& bootstrap, const std::string& group) {
  core::kafka::client_ptr consumer = make_client(RD_KAFKA_CONSUMER, make_conf({{"bootstrap.servers", bootstrap},
                                                                  {"group.id", group},
                                                                  {"auto.offset.reset", "earliest"},
                                                                  {"enable.auto.commit", "false"},
                                                                  {"session.timeout.ms", "6000"},
                                                                  {"heartbeat.interval.ms", "500"}}));
  // Route client events (errors, logs) to the consumer queue so consumer_poll serves them.
  rd_kafka_poll_set_consumer(consumer.get());
  return consumer;
}

void produce(rd_kafka_t* producer, const std::string& topic, const outgoing_message& message) {
  const auto deadline = steady_clock::now() + wait_limit;
  while (!try_produce(producer, topic, message)) {
    if (steady_clock::now() >= deadline) throw std::runtime_error("producer queue stayed full");
    rd_kafka_poll(producer, static_cast<int>(poll_interval.count()));
  }
}

void flush(rd_kafka_t* producer) {
  const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait_limit).count();
  const rd_kafka_resp_err_t error = rd_kafka_flush(producer, static_cast<int>(wait_ms));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("flush: {} ({} messages unacknowledged)", rd_kafka_err2str(error),
                                         rd_kafka_outq_len(producer)));
  }
}

void subscribe(rd_kafka_t* consumer, const std::string& topic) {
  const core::kafka::partition_list_ptr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t error = rd_kafka_subscribe(consumer, topics.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("subscribe to {}: {}", topic, rd_kafka_err2str(error)));
  }
}

consume_result consume_matching(rd_kafka_t* consumer, std::string_view key_prefix, std::size_t count) {
  consume_result result;
  const auto deadline = steady_clock::now() + wait_limit;
  while (result.messages.size() < count && steady_clock::now() < deadline) {
    const int wait_ms = std::min(milliseconds_left(deadline), static_cast<int>(poll_interval.count()));
    const core::kafka::message_ptr message(rd_kafka_consumer_poll(consumer, wait_ms));
    if (!message) continue;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      result.last_error = rd_kafka_message_errstr(message.get());
      continue;
    }
    received_message received = to_received(*message);
    if (received.key.starts_with(key_prefix)) result.messages.push_back(std::move(received));
  }
  return result;
}

void commit_after(rd_kafka_t* consumer, const std::string& topic, const received_message& message) {
  const core::kafka::partition_list_ptr offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), message.partition)->offset = message.offset + 1;
  const rd_kafka_resp_err_t error = rd_kafka_commit(consumer, offsets.get(), 0);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("commit: {}", rd_kafka_err2str(error)));
  }
}

core::kafka::metadata_ptr fetch_metadata(rd_kafka_t* client) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait_limit).count();
  const rd_kafka_resp_err_t error = rd_kafka_metadata(client, 1, nullptr, &metadata, static_cast<int>(wait_ms));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("metadata: {}", rd_kafka_err2str(error)));
  }
  return core::kafka::metadata_ptr(metadata);
}

}  // namespace cqrs::tests::kafka
