#include "commands/relay/topic_identity.hpp"

#include <algorithm>
#include <memory>

#include "core/kafka_handles.hpp"

namespace cqrs::commands::relay {

namespace {

struct kafka_memory_deleter {
  void operator()(char* text) const { rd_kafka_mem_free(nullptr, text); }
};

std::optional<int> partition_count(rd_kafka_t* client, const std::string& topic, int timeout_ms) {
  const core::kafka::topic_ptr handle(rd_kafka_topic_new(client, topic.c_str(), nullptr));
  if (!handle) return std::nullopt;
  const rd_kafka_metadata_t* raw = nullptr;
  if (rd_kafka_metadata(client, 0, handle.get(), &raw, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const core::kafka::metadata_ptr metadata(raw);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& found = metadata->topics[i];
    if (topic != found.topic) continue;
    if (found.err != RD_KAFKA_RESP_ERR_NO_ERROR || found.partition_cnt <= 0) return std::nullopt;
    return found.partition_cnt;
  }
  return std::nullopt;
}

// Asked after the metadata, which caches it: no extra round trip.
std::string cluster_id(rd_kafka_t* client, int timeout_ms) {
  const std::unique_ptr<char, kafka_memory_deleter> id(rd_kafka_clusterid(client, timeout_ms));
  return id ? std::string(id.get()) : std::string();
}

}  // namespace

std::optional<topic_sample> sample_topic(rd_kafka_t* client, const std::string& topic, std::chrono::milliseconds timeout) {
  const int timeout_ms = static_cast<int>(timeout.count());
  const auto partitions = partition_count(client, topic, timeout_ms);
  if (!partitions) return std::nullopt;
  topic_sample sample;
  sample.cluster_id = cluster_id(client, timeout_ms);
  for (std::int32_t partition = 0; partition < *partitions; ++partition) {
    std::int64_t low = -1;
    std::int64_t high = -1;
    if (rd_kafka_query_watermark_offsets(client, topic.c_str(), partition, &low, &high, timeout_ms) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return std::nullopt;
    }
    sample.high_watermarks.push_back(high);
  }
  return sample;
}

bool topic_identity::changed(const topic_sample& sample, bool acknowledged_before) const {
  if (!remembered_) {
    const auto& high = sample.high_watermarks;
    return acknowledged_before && std::all_of(high.begin(), high.end(), [](std::int64_t h) { return h <= 0; });
  }
  if (!cluster_id_.empty() && !sample.cluster_id.empty() && sample.cluster_id != cluster_id_) return true;
  for (const auto& [partition, offset] : highest_) {
    // A partition gone, or holding no message at an offset known to exist: another topic.
    if (static_cast<std::size_t>(partition) >= sample.high_watermarks.size()) return true;
    if (sample.high_watermarks[static_cast<std::size_t>(partition)] <= offset) return true;
  }
  return false;
}

void topic_identity::adopt(const topic_sample& sample) {
  remembered_ = true;
  cluster_id_ = sample.cluster_id;
  highest_.clear();
  for (std::size_t partition = 0; partition < sample.high_watermarks.size(); ++partition) {
    const auto high = sample.high_watermarks[partition];
    if (high > 0) highest_[static_cast<std::int32_t>(partition)] = high - 1;
  }
}

bool topic_identity::acknowledged(std::int32_t partition, std::int64_t offset) {
  if (partition < 0 || offset < 0) return true;  // a report without a place proves nothing
  auto [it, fresh] = highest_.try_emplace(partition, offset);
  if (fresh) return true;
  if (offset <= it->second) return false;
  it->second = offset;
  return true;
}

}  // namespace cqrs::commands::relay
