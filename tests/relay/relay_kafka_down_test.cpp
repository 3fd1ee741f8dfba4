// All brokers down for 10 s during appends (the embedded broker's SIGUSR1),
// then up again (SIGUSR2): appends go on meanwhile, and the relay delivers everything, in order
// per stream, once Kafka is back.

#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>
#include <thread>

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

// Brings the brokers back up whatever happens to the test: other suites need them.
class brokers_down {
 public:
  explicit brokers_down(pid_t broker) : broker_(broker) { ::kill(broker_, SIGUSR1); }
  ~brokers_down() { up(); }
  brokers_down(const brokers_down&) = delete;
  brokers_down& operator=(const brokers_down&) = delete;
  void up() {
    if (std::exchange(down_, false)) ::kill(broker_, SIGUSR2);
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
  steady_writer writer(name, 8, 300);
  std::this_thread::sleep_for(1s);
  {
    brokers_down outage(broker_pid());
    const auto before = writer.appended_so_far();
    std::this_thread::sleep_for(10s);
    // The write path never waits for Kafka: appends went on at their pace.
    CHECK(writer.appended_so_far() - before >= 300 * 9);
  }
  std::this_thread::sleep_for(1s);
  const auto [collected, check] = finish_delivery(writer, watch, 40s, [&] { relay.stop(); });
  MESSAGE(collected.total << " events appended, " << collected.messages.size() << " messages, " << check.duplicates
                          << " resends");
}
