#pragma once

// librdkafka's mock Kafka cluster, owned by one object. The mock cluster runs on its own thread
// inside a client handle, so the handle must outlive it: the members below are declared in the
// order that makes destruction tear the cluster down first, then the handle, then the logger
// that librdkafka's log callback writes to.

#include <memory>
#include <string>

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h requires rdkafka.h first.
#include <librdkafka/rdkafka_mock.h>

#include "core/log.hpp"
#include "tools/kafka_broker/broker_options.hpp"

namespace cqrs::tools::kafka_broker {

namespace detail {

struct kafka_handle_deleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};

struct mock_cluster_deleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const { rd_kafka_mock_cluster_destroy(cluster); }
};

struct kafka_conf_deleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};

using kafka_handle_ptr = std::unique_ptr<rd_kafka_t, kafka_handle_deleter>;
using mock_cluster_ptr = std::unique_ptr<rd_kafka_mock_cluster_t, mock_cluster_deleter>;
using kafka_conf_ptr = std::unique_ptr<rd_kafka_conf_t, kafka_conf_deleter>;

}  // namespace detail

class mock_cluster {
 public:
  // Starts `brokers` brokers (ids 1..brokers) listening on 127.0.0.1 at random ports.
  mock_cluster(int brokers, core::logger log);
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;
  ~mock_cluster();

  // Replication is min(3, brokers), the most the cluster can hold and what production uses.
  void create_topic(const topic_spec& topic);

  // "127.0.0.1:port,127.0.0.1:port,..."
  std::string bootstraps() const;

  void set_all_brokers_down();
  void set_all_brokers_up();

  int broker_count() const { return brokers_; }

 private:
  void set_all_brokers(bool up);

  core::logger log_;
  int brokers_;
  detail::kafka_handle_ptr handle_;
  detail::mock_cluster_ptr cluster_;
};

}  // namespace cqrs::tools::kafka_broker
