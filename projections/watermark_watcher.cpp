#include "projections/watermark_watcher.hpp"

#include <array>
#include <stdexcept>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "core/kafka_messages.hpp"
#include "projections/projector.hpp"

namespace cqrs::projections {

namespace {

core::kafka::client_ptr make_client(const projector_config& config) {
  auto conf = core::kafka::make_conf(
      {{"bootstrap.servers", config.bootstrap}, {"group.id", config.group}, {"enable.auto.commit", "false"}},
      config.kafka_properties);
  std::array<char, 512> error{};
  // Never subscribes: it only asks the group's committed offsets, without joining the group.
  core::kafka::client_ptr client(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error.data(), error.size()));
  if (!client) throw std::runtime_error(fmt::format("kafka client: {}", error.data()));
  conf.release();
  return client;
}

}  // namespace

watermark_watcher::watermark_watcher(const projector_config& config)
    : topic_(config.topic), client_(make_client(config)), clock_(config.pg_url), thread_([this] { loop(); }) {}

watermark_watcher::~watermark_watcher() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::map<std::int32_t, watermark_watcher::sample> watermark_watcher::latest() const {
  const std::lock_guard lock(mutex_);
  return latest_;
}

void watermark_watcher::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      sample_once();
    } catch (const std::exception&) {
      // A failed round leaves the previous samples: older stamps only delay answers.
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
  }
}

int watermark_watcher::partition_count() {
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_metadata(client_.get(), 1, nullptr, &raw, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
  int count = 0;
  for (int i = 0; i < raw->topic_cnt; ++i) {
    if (topic_ == raw->topics[i].topic) count = raw->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(raw);
  return count;
}

void watermark_watcher::sample_once() {
  const auto partitions = partition_count();
  std::string as_of;
  {
    pqxx::work tx(clock_.get());
    as_of = tx.exec("SELECT clock_timestamp()::text")[0][0].as<std::string>();
  }
  const core::kafka::partition_list_ptr committed(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(committed.get(), topic_.c_str(), p);
  if (rd_kafka_committed(client_.get(), committed.get(), 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  std::map<std::int32_t, sample> fresh;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(client_.get(), topic_.c_str(), p, &low, &high, 2000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      continue;
    }
    fresh[p] = {high, committed->elems[p].offset, as_of};
  }
  const std::lock_guard lock(mutex_);
  latest_ = std::move(fresh);
}

}  // namespace cqrs::projections
