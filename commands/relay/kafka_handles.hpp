#pragma once

// librdkafka's C handles, each owned by a unique_ptr with its deleter: a failing constructor or
// an exception never leaks a client or leaves its threads running.

#include <memory>

#include <librdkafka/rdkafka.h>

namespace cqrs::commands::relay {

namespace detail {

struct client_deleter {
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

}  // namespace detail

using client_ptr = std::unique_ptr<rd_kafka_t, detail::client_deleter>;
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, detail::conf_deleter>;
using headers_ptr = std::unique_ptr<rd_kafka_headers_t, detail::headers_deleter>;
using error_ptr = std::unique_ptr<rd_kafka_error_t, detail::error_deleter>;
using topic_ptr = std::unique_ptr<rd_kafka_topic_t, detail::topic_deleter>;
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, detail::metadata_deleter>;

}  // namespace cqrs::commands::relay
