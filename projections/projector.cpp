#include "projections/projector.hpp"

#include <array>
#include <charconv>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <pqxx/pqxx>

namespace cqrs::projections {

namespace {

std::optional<std::string_view> header(rd_kafka_headers_t* headers, const char* name) {
  const void* value = nullptr;
  std::size_t size = 0;
  if (headers == nullptr || rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(value), size);
}

template <typename Number>
std::optional<Number> number(std::optional<std::string_view> text) {
  Number value{};
  if (!text) return std::nullopt;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
  return value;
}

detail::conf_ptr consumer_conf(const projector_config& config, void* opaque) {
  detail::conf_ptr conf(rd_kafka_conf_new());
  core::key_values settings{{"bootstrap.servers", config.bootstrap}, {"group.id", config.group},
                            {"enable.auto.commit", "false"},         {"enable.auto.offset.store", "false"},
                            {"auto.offset.reset", "earliest"},       {"session.timeout.ms", "6000"},
                            {"heartbeat.interval.ms", "500"}};
  settings.insert(settings.end(), config.kafka_properties.begin(), config.kafka_properties.end());
  std::array<char, 512> error{};
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK) {
      throw std::invalid_argument(fmt::format("kafka setting {}: {}", name, error.data()));
    }
  }
  rd_kafka_conf_set_opaque(conf.get(), opaque);
  return conf;
}

}  // namespace

std::optional<core::recorded_event> event_from_message(const rd_kafka_message_t& message) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const auto stream = header(headers, "stream-id");
  const auto type = header(headers, "event-type");
  const auto version = number<std::int64_t>(header(headers, "stream-version"));
  const auto schema = number<int>(header(headers, "schema-version"));
  const auto at = number<std::int64_t>(header(headers, "recorded-at"));
  const auto position = core::log_position::parse(header(headers, "log-position").value_or("-"));
  const auto id = core::event_id::parse(header(headers, "event-id").value_or(""));
  if (!stream || !type || !version || !schema || !at || !position.ok() || !id.ok()) return std::nullopt;
  const auto parsed_stream = core::stream_id::parse(*stream);
  if (!parsed_stream.ok()) return std::nullopt;
  core::recorded_event event{position.value(), parsed_stream.value(), core::stream_version{*version}, id.value()};
  event.type = std::string(*type);
  event.schema_version = *schema;
  event.payload.assign(static_cast<const char*>(message.payload), message.len);
  event.recorded_at = core::timestamp{std::chrono::microseconds{*at}};
  return event;
}

projector::projector(projector_config config, const target_set& targets, core::logger log)
    : config_(std::move(config)),
      targets_(targets),
      log_(std::move(log)),
      dead_letters_(config_.pg_url),
      checkpoints_(config_.pg_url),
      watermarks_(config_),
      last_commit_(std::chrono::steady_clock::now()) {
  auto conf = consumer_conf(config_, this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), on_rebalance);
  std::array<char, 512> error{};
  consumer_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error.data(), error.size()));
  if (!consumer_) throw std::runtime_error(fmt::format("kafka consumer: {}", error.data()));
  conf.release();  // rd_kafka_new took it
  rd_kafka_poll_set_consumer(consumer_.get());
  detail::partition_list_ptr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), config_.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (const auto err = rd_kafka_subscribe(consumer_.get(), topics.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("kafka subscribe: {}", rd_kafka_err2str(err)));
  }
}

projector::~projector() {
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
}

void projector::on_rebalance(rd_kafka_t* client, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                             void* opaque) {
  auto* self = static_cast<projector*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(client, partitions);
    return;
  }
  // Revoked: everything polled so far is applied (one thread), so commit it before letting go;
  // no broker queries for idle partitions here, inside the rebalance.
  self->commit(false);
  self->progress_.clear();
  rd_kafka_assign(client, nullptr);
}

void projector::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    poll_once(std::chrono::milliseconds(200));
    if (std::chrono::steady_clock::now() - last_commit_ >= config_.commit_interval) commit();
  }
  commit();
}

bool projector::poll_once(std::chrono::milliseconds timeout) {
  const detail::message_ptr message(rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(timeout.count())));
  if (!message) return false;
  if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return false;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    log_.warn("kafka consumer error", {{"error", rd_kafka_message_errstr(message.get())}});
    return false;
  }
  handle(*message);
  return true;
}

void projector::handle(const rd_kafka_message_t& message) {
  ++stats_.messages;
  const auto event = event_from_message(message);
  if (!event) {
    ++stats_.ignored;
    log_.warn("not an event message", {{"partition", message.partition}, {"offset", message.offset}});
  } else {
    bool used = false;
    for (const auto& target : targets_.all()) {
      if (target->info().category != event->stream.category()) continue;
      apply_to(*target, *event);
      used = true;
    }
    if (!used) ++stats_.ignored;
  }
  auto& progress = progress_[message.partition];
  if (event) progress.position = event->position.token();
  progress.offset = message.offset;
  rd_kafka_offset_store(message.rkt, message.partition, message.offset);
}

void projector::apply_to(projection_target& target, const core::recorded_event& event) {
  std::map<std::string, int> failures;  // per failing stream version: a gap fill may meet other poison
  for (;;) {
    try {
      stats_.counts += target.apply(std::span(&event, 1));
      return;
    } catch (const handler_error& e) {
      const auto key = fmt::format("{}@{}", e.event().stream.str(), e.event().version.value());
      if (++failures[key] < config_.max_attempts) continue;
      log_.error("dead-lettering event", {{"projection", target.info().name},
                                          {"stream", e.event().stream.str()},
                                          {"version", e.event().version.value()},
                                          {"error", e.what()}});
      if (config_.halt_on_poison) throw;
      dead_letters_.record(target.info().name, e.event(), e.what(), failures[key]);
      target.skip(e.event());
      ++stats_.dead_lettered;
      if (e.event().stream == event.stream && e.event().version >= event.version) return;
    }
  }
}

void projector::commit(bool check_idle) {
  last_commit_ = std::chrono::steady_clock::now();
  save_checkpoints(check_idle);
  if (progress_.empty()) return;
  const auto err = rd_kafka_commit(consumer_.get(), nullptr, 0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    // REBALANCE_IN_PROGRESS and friends: the messages come again and change nothing.
    log_.warn("kafka commit failed", {{"error", rd_kafka_err2str(err)}});
  }
}

std::map<std::int32_t, std::string> projector::caught_up_partitions() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const detail::partition_list_ptr positions(raw);
  rd_kafka_position(consumer_.get(), positions.get());
  const auto samples = watermarks_.latest();
  std::map<std::int32_t, std::string> caught_up;
  for (int i = 0; i < positions->cnt; ++i) {
    const auto it = samples.find(positions->elems[i].partition);
    if (it == samples.end()) continue;
    // Nothing consumed in this session: the committed offset (only of applied messages) counts.
    const auto at = std::max(positions->elems[i].offset, it->second.committed);
    if (at >= it->second.high || it->second.high == 0) caught_up[positions->elems[i].partition] = it->second.as_of;
  }
  return caught_up;
}

void projector::save_checkpoints(bool check_idle) {
  pqxx::work tx(checkpoints_.get());
  const auto caught_up = check_idle ? caught_up_partitions() : std::map<std::int32_t, std::string>{};
  std::set<std::int32_t> partitions;
  for (const auto& entry : caught_up) partitions.insert(entry.first);
  for (const auto& entry : progress_) partitions.insert(entry.first);
  for (const auto& target : targets_.all()) {
    for (const auto partition : partitions) {
      const auto it = progress_.find(partition);
      const auto progress = it == progress_.end() ? partition_progress{"", -1} : it->second;
      std::optional<std::string> as_of_if;
      if (const auto c = caught_up.find(partition); c != caught_up.end()) as_of_if = c->second;
      tx.exec_params(
          "INSERT INTO projection_checkpoints (projection, kafka_partition, log_position, kafka_offset, "
          "caught_up_as_of) VALUES ($1, $2, $3, $4, $5::timestamptz) ON CONFLICT (projection, kafka_partition) DO "
          "UPDATE SET log_position = greatest(projection_checkpoints.log_position, EXCLUDED.log_position), "
          "kafka_offset = greatest(projection_checkpoints.kafka_offset, EXCLUDED.kafka_offset), "
          "caught_up_as_of = greatest(projection_checkpoints.caught_up_as_of, EXCLUDED.caught_up_as_of), "
          "updated_at = now()",
          target->info().name, partition, progress.position, progress.offset, as_of_if);
    }
  }
  tx.commit();
}

}  // namespace cqrs::projections
