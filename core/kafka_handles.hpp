#pragma once

// librdkafka's C handles, each owned by a unique_ptr with its deleter: a failing constructor or
// an exception never leaks a client or leaves its threads running. Header-only, so that core's
// library does not link librdkafka: only the components that include this do (the relay, the
// projector, the mock broker host, the Kafka tests). The mock cluster's handle is in
// kafka_mock_cluster.hpp, for the few that host one.

#include <memory>

#include <librdkafka/rdkafka.h>

namespace cqrs::core::kafka {

namespace detail {

struct client_deleter {
  // For a consumer this closes it first (leaves the group; commits nothing on its own).
  void operator()(rd_kafka_t* client) const { rd_kafka_destroy(client); }
};
struct conf_deleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct headers_deleter {
  void operator()(rd_kafka_headers_t* headers) const { rd_kafka_headers_destroy(headers); }
};
struct error_deleter {
  void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
};
struct topic_deleter {
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
};
struct metadata_deleter {
  void operator()(const rd_kafka_metadata_t* metadata) const { rd_kafka_metadata_destroy(metadata); }
};
struct message_deleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const { rd_kafka_topic_partition_list_destroy(list); }
};

}  // namespace detail

using client_ptr = std::unique_ptr<rd_kafka_t, detail::client_deleter>;
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, detail::conf_deleter>;
using headers_ptr = std::unique_ptr<rd_kafka_headers_t, detail::headers_deleter>;
using error_ptr = std::unique_ptr<rd_kafka_error_t, detail::error_deleter>;
using topic_ptr = std::unique_ptr<rd_kafka_topic_t, detail::topic_deleter>;
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, detail::metadata_deleter>;
using message_ptr = std::unique_ptr<rd_kafka_message_t, detail::message_deleter>;
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, detail::partition_list_deleter>;

}  // namespace cqrs::core::kafka
