#pragma once

// librdkafka's mock Kafka cluster, owned by one object. The mock cluster runs on its own thread
// inside a client handle, so the handle must outlive it: the members below are declared in the
// order that makes destruction tear the cluster down first, then the handle, then the logger
// that librdkafka's log callback writes to.

#include <memory>
#include <string>

#include "core/kafka_handles.hpp"
#include "core/kafka_mock_cluster.hpp"
#include "core/log.hpp"
#include "tools/kafka_broker/broker_options.hpp"

namespace cqrs::tools::kafka_broker {

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
  core::kafka::client_ptr handle_;
  core::kafka::mock_cluster_ptr cluster_;
};

}  // namespace cqrs::tools::kafka_broker
