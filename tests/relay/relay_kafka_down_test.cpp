// All brokers down for 10 s during appends (the embedded broker's SIGUSR1),
// then up again (SIGUSR2): appends go on meanwhile, the relay sees the outage (its Kafka client
// reports errors, nothing is confirmed while it lasts), and it delivers everything, in order per
// stream, once Kafka is back.

#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "commands/relay/relay_metrics.hpp"
#include "tests/relay/relay_test_support.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using namespace cqrs::tests::relay;
using namespace std::chrono_literals;

namespace {

pid_t broker_pid() {
  std::ifstream in(tests::stack_setting("CQRS_STACK_DIR") + "/kafka/broker.pid");
  pid_t pid = 0;
  in >> pid;
  if (pid <= 0) throw std::runtime_error("cannot read the broker's pid");
  return pid;
}

void signal_broker(pid_t broker, int number) {
  if (::kill(broker, number) != 0) {
    throw std::runtime_error(fmt::format("cannot signal the broker (pid {}): {}", broker, std::strerror(errno)));
  }
}

// Brings the brokers back up whatever happens to the test: other suites need them.
class brokers_down {
 public:
  explicit brokers_down(pid_t broker) : broker_(broker) { signal_broker(broker_, SIGUSR1); }
  ~brokers_down() {
    if (down_) (void)::kill(broker_, SIGUSR2);
  }
  brokers_down(const brokers_down&) = delete;
  brokers_down& operator=(const brokers_down&) = delete;
  void up() {
    signal_broker(broker_, SIGUSR2);
    down_ = false;
  }

 private:
  pid_t broker_;
  bool down_ = true;
};

}  // namespace

TEST_CASE("with every broker down for 10 s during appends, the relay catches up in order and loses nothing") {
  const auto name = unique_name("relaydown");
  topic_watch watch(name + "-");
  running_relay relay(relay_options_for(name));
  const commands::relay::relay_metrics metrics(relay.registry(), name);  // the relay's own series
  steady_writer writer(name, 8, 300);
  // Delivering before the outage.
  REQUIRE(eventually([&] { return metrics.events.value() > 0; }, 30s));
  double confirmed_at_end = 0;
  {
    const auto started = steady_clock::now();
    brokers_down outage(broker_pid());
    const auto before = writer.appended_so_far();
    const double errors_before = metrics.kafka_errors.value();
    // The relay's Kafka client sees the brokers go.
    REQUIRE(eventually([&] { return metrics.kafka_errors.value() > errors_before; }, 9s));
    // Acknowledgements already on their way when the brokers went may still land; none after.
    std::this_thread::sleep_for(1s);
    const double confirmed_during = metrics.events.value();
    const auto appended_during = writer.appended_so_far();
    // The outage lasts 10 s, and at least 3 s past the moment above.
    std::this_thread::sleep_until(std::max(started + 10s, steady_clock::now() + 3s));
    confirmed_at_end = metrics.events.value();
    CHECK(writer.appended_so_far() > appended_during);
    // Nothing appended meanwhile was confirmed while the brokers were down.
    CHECK(confirmed_at_end == confirmed_during);
    // The write path never waits for Kafka: appends went on at their pace.
    CHECK(writer.appended_so_far() - before >= 300 * 9);
    outage.up();
  }
  // Deliveries resume once the brokers are back, while the writer still appends.
  CHECK(eventually([&] { return metrics.events.value() > confirmed_at_end; }, 60s));
  const auto [collected, check] = finish_delivery(writer, watch, 40s, [&] { relay.stop(); });
  MESSAGE(collected.total << " events appended, " << collected.messages.size() << " messages, " << check.duplicates
                          << " resends");
}
