// A failed delivery never lets the checkpoint pass it: Kafka refuses produce requests with a
// permanent error (injected into a mock cluster inside this process, since the stack's broker
// runs elsewhere); the relay ends that publishing run, recreates its producer and sends again from
// the checkpoint, so every event still arrives, in order per stream.

#include <doctest/doctest.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // after rdkafka.h, as it requires

#include <array>

#include "commands/relay/relay_metrics.hpp"
#include "tests/relay/relay_test_support.hpp"

using namespace cqrs;
using namespace cqrs::tests::relay;
using namespace std::chrono_literals;

namespace {

constexpr std::int16_t produce_api = 0;  // the Kafka protocol's ApiKey of Produce

// librdkafka's mock cluster in this process: a host handle and the cluster living in it.
class in_process_cluster {
 public:
  in_process_cluster() {
    std::array<char, 512> error{};
    core::kafka::conf_ptr conf(rd_kafka_conf_new());
    rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t*, int, const char*, const char*) {});
    host_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size()));
    if (!host_) throw std::runtime_error(error.data());
    conf.release();  // rd_kafka_new took ownership
    cluster_.reset(rd_kafka_mock_cluster_new(host_.get(), 3));
    if (!cluster_ || rd_kafka_mock_topic_create(cluster_.get(), topic, 3, 3) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("cannot start a mock cluster");
    }
  }

  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_.get()); }

  // The next `count` produce requests fail with a permanent (non-retriable) error.
  void refuse_produce_requests(std::size_t count) {
    std::vector<rd_kafka_resp_err_t> errors(count, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    rd_kafka_mock_push_request_errors_array(cluster_.get(), produce_api, errors.size(), errors.data());
  }

  static constexpr const char* topic = "relay-failures";

 private:
  core::kafka::client_ptr host_;
  std::unique_ptr<rd_kafka_mock_cluster_t, void (*)(rd_kafka_mock_cluster_t*)> cluster_{nullptr,
                                                                                          rd_kafka_mock_cluster_destroy};
};

}  // namespace

TEST_CASE("a permanently failed delivery restarts the producer from the checkpoint: nothing lost, order kept") {
  in_process_cluster kafka;
  const auto name = unique_name("relayfail");
  topic_watch watch(name + "-", kafka.bootstraps(), in_process_cluster::topic);
  auto options = relay_options_for(name);
  options.kafka.bootstrap = kafka.bootstraps();
  options.kafka.topic = in_process_cluster::topic;
  running_relay relay(options);
  const commands::relay::relay_metrics metrics(relay.registry(), name);  // the relay's own series
  steady_writer writer(name, 6, 300);
  // Delivering before the failure.
  REQUIRE(eventually([&] { return metrics.events.value() > 0; }, 30s));
  kafka.refuse_produce_requests(3);
  REQUIRE(eventually([&] { return metrics.delivery_errors.value() > 0; }, 30s));
  // The new producer delivers again (what was resent from the checkpoint, then the writer's
  // newer events): more confirmed than when the failure was counted.
  const double confirmed_at_failure = metrics.events.value();
  CHECK(eventually([&] { return metrics.events.value() > confirmed_at_failure; }, 30s));
  const auto [collected, check] = finish_delivery(writer, watch, 30s, [&] { relay.stop(); });
  MESSAGE(collected.total << " events, " << collected.messages.size() << " messages, " << check.duplicates
                          << " resends after the failure");
}
