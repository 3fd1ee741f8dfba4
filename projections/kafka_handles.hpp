#pragma once

// librdkafka's C handles, each owned by a unique_ptr with its deleter.

#include <memory>

#include <librdkafka/rdkafka.h>

namespace cqrs::projections::detail {

struct client_deleter {
  // For a consumer this closes it first (leaves the group, commits nothing on its own).
  void operator()(rd_kafka_t* client) const { rd_kafka_destroy(client); }
};
struct conf_deleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct message_deleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const { rd_kafka_topic_partition_list_destroy(list); }
};

using client_ptr = std::unique_ptr<rd_kafka_t, client_deleter>;
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;

}  // namespace cqrs::projections::detail
