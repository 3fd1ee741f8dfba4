#include "tools/kafka_broker/mock_cluster.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

namespace cqrs::tools::kafka_broker {

namespace {

// librdkafka logs with syslog levels (0 emergency .. 7 debug).
core::log_level level_from_syslog(int level) {
  if (level <= 3) return core::log_level::error;
  if (level == 4) return core::log_level::warn;
  if (level <= 6) return core::log_level::info;
  return core::log_level::debug;
}

// Called on librdkafka's threads; the logger writes each line with one write(2), so that is safe.
void forward_log(const rd_kafka_t* handle, int level, const char* facility, const char* message) {
  // The host handle has no bootstrap servers on purpose; librdkafka's warning about that
  // would only mislead whoever reads the broker's log.
  if (std::string_view(facility) == "CONFWARN") level = 7;
  const auto* log = static_cast<const core::logger*>(rd_kafka_opaque(handle));
  const std::initializer_list<core::log_field> fields{{"source", "librdkafka"}, {"facility", facility}};
  switch (level_from_syslog(level)) {
    case core::log_level::debug: log->debug(message, fields); break;
    case core::log_level::info: log->info(message, fields); break;
    case core::log_level::warn: log->warn(message, fields); break;
    case core::log_level::error: log->error(message, fields); break;
  }
}

core::kafka::conf_ptr host_conf(core::logger& log) {
  core::kafka::conf_ptr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_opaque(conf.get(), &log);
  rd_kafka_conf_set_log_cb(conf.get(), forward_log);
  return conf;
}

// The mock cluster needs a client handle to live in; a producer without bootstrap servers
// never connects anywhere itself.
core::kafka::client_ptr new_host_handle(core::logger& log) {
  std::array<char, 512> error{};
  core::kafka::conf_ptr conf = host_conf(log);
  core::kafka::client_ptr handle(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size()));
  if (!handle) throw std::runtime_error(fmt::format("cannot create the host client: {}", error.data()));
  conf.release();  // rd_kafka_new took ownership on success
  return handle;
}

core::kafka::mock_cluster_ptr new_cluster(rd_kafka_t* handle, int brokers) {
  core::kafka::mock_cluster_ptr cluster(rd_kafka_mock_cluster_new(handle, brokers));
  if (!cluster) throw std::runtime_error(fmt::format("cannot start a mock cluster of {} brokers", brokers));
  return cluster;
}

}  // namespace

mock_cluster::mock_cluster(int brokers, core::logger log)
    : log_(std::move(log)),
      brokers_(brokers),
      handle_(new_host_handle(log_)),
      cluster_(new_cluster(handle_.get(), brokers)) {}

mock_cluster::~mock_cluster() { log_.info("destroying mock cluster"); }

void mock_cluster::create_topic(const topic_spec& topic) {
  const int replication = std::min(3, brokers_);
  const rd_kafka_resp_err_t error =
      rd_kafka_mock_topic_create(cluster_.get(), topic.name.c_str(), topic.partitions, replication);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(fmt::format("cannot create topic {}: {}", topic.name, rd_kafka_err2str(error)));
  }
  log_.info("topic created", {{"topic", topic.name}, {"partitions", topic.partitions}, {"replication", replication}});
}

std::string mock_cluster::bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_.get()); }

void mock_cluster::set_all_brokers_down() { set_all_brokers(false); }
void mock_cluster::set_all_brokers_up() { set_all_brokers(true); }

void mock_cluster::set_all_brokers(bool up) {
  for (int32_t id = 1; id <= brokers_; ++id) {
    const rd_kafka_resp_err_t error =
        up ? rd_kafka_mock_broker_set_up(cluster_.get(), id) : rd_kafka_mock_broker_set_down(cluster_.get(), id);
    // Keep going: one broker refusing should not leave the rest in the old state.
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log_.error("cannot change broker state", {{"broker", id}, {"up", up ? "true" : "false"},
                                                {"error", rd_kafka_err2str(error)}});
    }
  }
  log_.info(up ? "brokers up" : "brokers down", {{"brokers", brokers_}});
}

}  // namespace cqrs::tools::kafka_broker
