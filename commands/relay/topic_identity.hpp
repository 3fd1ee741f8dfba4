#pragma once

// Whether the events topic is still the one the relay's checkpoint was made on.
//
// The checkpoint says "every event up to here is in the topic". That holds only for the topic
// the acknowledgements came from: an embedded broker restarted empty (new ports, new topic), a
// cluster replaced behind the same address or a topic deleted and created again holds none of
// it, and its offsets start again at 0, so a consumer's offset-jump check sees nothing wrong.
// The relay notices such a topic by what it remembers of the one it acknowledged on:
//
// - the cluster id it saw (librdkafka's metadata) changed;
// - a partition's high watermark is at or below an offset this process saw acknowledged there,
//   or a delivery report gives an offset at or below one (offsets never go backwards in one
//   topic);
// - with no memory (a fresh process or a new leader): the checkpoint is past the start
//   position, so events were acknowledged to the topic, yet every partition is empty
//   (retention removes old messages, never a partition's last one).
//
// What the relay then does (markers, README "Broker identity") is in relay.cpp.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

namespace cqrs::commands::relay {

// What the cluster says of the topic right now.
struct topic_sample {
  std::string cluster_id;                    // empty when the cluster gave none
  std::vector<std::int64_t> high_watermarks;  // one per partition, index = partition
};

// Asks the cluster (metadata, then one watermark query per partition); nothing when it does not
// answer within `timeout` per request, or does not know the topic.
std::optional<topic_sample> sample_topic(rd_kafka_t* client, const std::string& topic, std::chrono::milliseconds timeout);

class topic_identity {
 public:
  // Whether `sample` shows another topic than the one remembered. `acknowledged_before`: the
  // checkpoint is past the start position (some event was acknowledged to the topic).
  bool changed(const topic_sample& sample, bool acknowledged_before) const;

  // Remembers `sample` as the topic now published to (the watermarks as acknowledged offsets).
  void adopt(const topic_sample& sample);

  // From a confirmed delivery: false when the offset is not above every offset remembered for
  // its partition (the topic went backwards); remembered otherwise.
  bool acknowledged(std::int32_t partition, std::int64_t offset);

 private:
  bool remembered_ = false;  // adopt() was called: the rules on memory apply, not the empty-topic one
  std::string cluster_id_;
  std::map<std::int32_t, std::int64_t> highest_;  // highest offset known to exist, per partition
};

}  // namespace cqrs::commands::relay
