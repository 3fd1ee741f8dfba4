#include "commands/relay/event_producer.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "commands/relay/message_format.hpp"

namespace cqrs::commands::relay {

namespace {

constexpr int poll_timeout_ms = 100;
constexpr int warm_up_timeout_ms = 2000;

// librdkafka logs with syslog levels (0 emergency .. 7 debug).
core::log_level level_from_syslog(int level) {
  if (level <= 3) return core::log_level::error;
  if (level == 4) return core::log_level::warn;
  if (level <= 6) return core::log_level::info;
  return core::log_level::debug;
}

core::kafka::headers_ptr make_headers(const core::recorded_event& event) {
  const event_headers headers(event);
  core::kafka::headers_ptr out(rd_kafka_headers_new(headers.all().size()));
  for (const auto& h : headers.all()) {
    rd_kafka_header_add(out.get(), h.name.data(), static_cast<ssize_t>(h.name.size()), h.value.data(),
                        static_cast<ssize_t>(h.value.size()));
  }
  return out;
}

rd_kafka_vu_t bytes_field(rd_kafka_vtype_t type, std::string_view bytes) {
  rd_kafka_vu_t field{};
  field.vtype = type;
  // librdkafka's API is not const-correct; RD_KAFKA_MSG_F_COPY means it only reads.
  field.u.mem.ptr = const_cast<char*>(bytes.data());
  field.u.mem.size = bytes.size();
  return field;
}

void* opaque_of(ticket id) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)); }
ticket ticket_of(void* opaque) { return static_cast<ticket>(reinterpret_cast<std::uintptr_t>(opaque)); }

// Markers are not events: the tracker never sees them (tickets count up from 0, far from this).
constexpr ticket marker_ticket = std::numeric_limits<std::uintptr_t>::max();

core::kafka::headers_ptr marker_headers(std::string_view resumes_after, std::string_view epoch) {
  core::kafka::headers_ptr out(rd_kafka_headers_new(2));
  rd_kafka_header_add(out.get(), header::topic_start.data(), static_cast<ssize_t>(header::topic_start.size()),
                      resumes_after.data(), static_cast<ssize_t>(resumes_after.size()));
  rd_kafka_header_add(out.get(), header::relay_epoch.data(), static_cast<ssize_t>(header::relay_epoch.size()),
                      epoch.data(), static_cast<ssize_t>(epoch.size()));
  return out;
}

}  // namespace

event_producer::event_producer(const core::key_values& properties, std::string topic, delivery_tracker& tracker,
                               const core::logger& log, core::counter& kafka_errors)
    : topic_(std::move(topic)), tracker_(tracker), log_(log.child("kafka")), kafka_errors_(kafka_errors) {
  core::kafka::conf_ptr conf = make_conf(properties);
  std::array<char, 512> error{};
  client_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size()));
  if (!client_) throw std::runtime_error(fmt::format("cannot create the Kafka producer: {}", error.data()));
  conf.release();  // rd_kafka_new took ownership on success
  poller_ = std::jthread([this](std::stop_token stop) { poll_until_stopped(stop); });
}

event_producer::~event_producer() {
  purge();
  // Serve the purge's reports while the poller still runs, then stop it before destroying.
  flush(std::chrono::milliseconds{2000});
  poller_.request_stop();
  poller_.join();
}

namespace {

// Throws std::runtime_error naming the first property librdkafka refuses.
core::kafka::conf_ptr conf_from(const core::key_values& properties) {
  core::kafka::conf_ptr conf(rd_kafka_conf_new());
  std::array<char, 512> error{};
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(fmt::format("Kafka property {}={}: {}", name, value, error.data()));
    }
  }
  return conf;
}

}  // namespace

void check_producer_properties(const core::key_values& properties) {
  try {
    (void)conf_from(properties);
  } catch (const std::runtime_error& e) {
    throw core::config_error("CQRS_KAFKA_PROPERTIES", e.what());
  }
}

core::kafka::conf_ptr event_producer::make_conf(const core::key_values& properties) {
  core::kafka::conf_ptr conf = conf_from(properties);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), on_error);
  rd_kafka_conf_set_log_cb(conf.get(), on_log);
  return conf;
}

// librdkafka looks up a topic it has not seen at its next one-second scan, which would delay the
// first deliveries (and a takeover) by up to a second; asking at once avoids that. No report can
// come before the topic is known, so the poller loses nothing by asking first.
void event_producer::warm_up() {
  const core::kafka::topic_ptr topic(rd_kafka_topic_new(client_.get(), topic_.c_str(), nullptr));
  const rd_kafka_metadata_t* metadata = nullptr;
  // Only the side effect matters (librdkafka learns the topic's partitions and leaders); if Kafka
  // does not answer in time, the regular scan finds the topic later.
  if (rd_kafka_metadata(client_.get(), 0, topic.get(), &metadata, warm_up_timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const core::kafka::metadata_ptr owned(metadata);
  }
}

void event_producer::poll_until_stopped(const std::stop_token& stop) {
  warm_up();
  while (!stop.stop_requested()) rd_kafka_poll(client_.get(), poll_timeout_ms);
}

bool event_producer::try_produce(const core::recorded_event& event, ticket id) {
  core::kafka::headers_ptr headers = make_headers(event);
  std::array<rd_kafka_vu_t, 6> fields{};
  fields[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  fields[0].u.cstr = topic_.c_str();
  fields[1] = bytes_field(RD_KAFKA_VTYPE_KEY, key_for(event));
  fields[2] = bytes_field(RD_KAFKA_VTYPE_VALUE, value_for(event));
  fields[3].vtype = RD_KAFKA_VTYPE_HEADERS;
  fields[3].u.headers = headers.get();
  fields[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  fields[4].u.i = RD_KAFKA_MSG_F_COPY;
  fields[5].vtype = RD_KAFKA_VTYPE_OPAQUE;
  fields[5].u.ptr = opaque_of(id);
  const core::kafka::error_ptr error(rd_kafka_produceva(client_.get(), fields.data(), fields.size()));
  if (!error) {
    headers.release();  // the message owns them now
    return true;
  }
  // Anything but a full queue (a fatal error raised meanwhile, a message too large) fails the
  // run like a failed delivery: the checkpoint stays before this event.
  if (rd_kafka_error_code(error.get()) != RD_KAFKA_RESP_ERR__QUEUE_FULL) tracker_.fail(rd_kafka_error_string(error.get()));
  return false;
}

bool event_producer::flush(std::chrono::milliseconds limit) {
  return rd_kafka_flush(client_.get(), static_cast<int>(limit.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

void event_producer::purge() noexcept {
  rd_kafka_purge(client_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
}

std::optional<topic_sample> event_producer::sample_topic(std::chrono::milliseconds timeout) {
  return cqrs::commands::relay::sample_topic(client_.get(), topic_, timeout);
}

bool event_producer::send_markers(int partitions, const core::log_position& resumes_after, const std::string& epoch,
                                  std::chrono::milliseconds limit) {
  markers_acked_ = 0;
  const auto token = resumes_after.token();
  for (std::int32_t partition = 0; partition < partitions; ++partition) {
    if (!produce_marker(partition, token, epoch)) return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (markers_acked_.load() < partitions && !tracker_.failure() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});  // reports arrive on the poll thread
  }
  return markers_acked_.load() == partitions;
}

bool event_producer::produce_marker(std::int32_t partition, std::string_view resumes_after, std::string_view epoch) {
  core::kafka::headers_ptr headers = marker_headers(resumes_after, epoch);
  std::array<rd_kafka_vu_t, 4> fields{};
  fields[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  fields[0].u.cstr = topic_.c_str();
  fields[1].vtype = RD_KAFKA_VTYPE_PARTITION;
  fields[1].u.i32 = partition;
  fields[2].vtype = RD_KAFKA_VTYPE_HEADERS;
  fields[2].u.headers = headers.get();
  fields[3].vtype = RD_KAFKA_VTYPE_OPAQUE;
  fields[3].u.ptr = opaque_of(marker_ticket);
  const core::kafka::error_ptr error(rd_kafka_produceva(client_.get(), fields.data(), fields.size()));
  if (error) {
    tracker_.fail(rd_kafka_error_string(error.get()));
    return false;
  }
  headers.release();  // the message owns them now
  return true;
}

void event_producer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto& self = *static_cast<event_producer*>(opaque);
  const ticket id = ticket_of(message->_private);
  if (id == marker_ticket) {
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self.markers_acked_;
    } else {
      self.tracker_.fail(rd_kafka_err2str(message->err));
    }
    return;
  }
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self.tracker_.delivered(id, kafka_place{message->partition, message->offset});
  } else {
    self.tracker_.failed(ticket_of(message->_private), rd_kafka_err2str(message->err));
  }
}

// Most errors are informational (a broker is down; librdkafka keeps retrying, and its log line
// says so already): only a fatal error makes the producer unusable.
void event_producer::on_error(rd_kafka_t* client, int error, const char*, void* opaque) {
  auto& self = *static_cast<event_producer*>(opaque);
  self.kafka_errors_.increment();
  if (error != RD_KAFKA_RESP_ERR__FATAL) return;
  std::array<char, 512> detail{};
  const auto fatal = rd_kafka_fatal_error(client, detail.data(), detail.size());
  self.log_.error("Kafka producer failed", {{"error", rd_kafka_err2name(fatal)}, {"reason", detail.data()}});
  self.tracker_.fail(detail.data());
}

void event_producer::on_log(const rd_kafka_t* client, int level, const char* facility, const char* message) {
  // The relay sets the experimental gap-less guarantee on purpose (README): not worth a warning.
  if (std::string_view(message).find("enable.gapless.guarantee is experimental") != std::string_view::npos) level = 7;
  const auto& self = *static_cast<const event_producer*>(rd_kafka_opaque(client));
  const std::initializer_list<core::log_field> fields{{"source", "librdkafka"}, {"facility", facility}};
  switch (level_from_syslog(level)) {
    case core::log_level::debug: self.log_.debug(message, fields); break;
    case core::log_level::info: self.log_.info(message, fields); break;
    case core::log_level::warn: self.log_.warn(message, fields); break;
    case core::log_level::error: self.log_.error(message, fields); break;
  }
}

}  // namespace cqrs::commands::relay
