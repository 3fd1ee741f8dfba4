// cqrs-kafka-broker: hosts librdkafka's mock Kafka cluster for tests and local runs, publishes its
// bootstrap list in a file, and runs until SIGTERM or SIGINT. See --help.

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>

#include "core/log.hpp"
#include "tools/kafka_broker/bootstrap_file.hpp"
#include "tools/kafka_broker/broker_options.hpp"
#include "tools/kafka_broker/mock_cluster.hpp"

namespace cqrs::tools::kafka_broker {
namespace {

constexpr int exit_usage = 2;

sigset_t control_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int number : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&signals, number);
  return signals;
}

// Returns when asked to stop; brokers go down and up on request meanwhile.
void serve_signals(const sigset_t& signals, mock_cluster& cluster, const core::logger& log) {
  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    switch (signal) {
      case SIGUSR1: cluster.set_all_brokers_down(); break;
      case SIGUSR2: cluster.set_all_brokers_up(); break;
      default:
        log.info("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
        return;
    }
  }
}

void run(const broker_options& options, const sigset_t& signals) {
  const core::logger log("kafka-broker", options.log_level);
  prepare_bootstrap_path(options.bootstrap_file, log);
  mock_cluster cluster(options.brokers, log);
  for (const auto& topic : options.topics) cluster.create_topic(topic);
  // Published only once the topics exist, so a client that finds the file finds them too.
  // Declared after the cluster, so the file disappears before the cluster does.
  const bootstrap_file published(options.bootstrap_file, cluster.bootstraps());
  log.info("broker ready", {{"bootstrap", cluster.bootstraps()},
                            {"brokers", options.brokers},
                            {"file", options.bootstrap_file.string()}});
  serve_signals(signals, cluster, log);
}

int main(int argc, char** argv) {
  // Blocked before librdkafka starts any thread, so every thread inherits the mask and the
  // signals reach only sigwait below, never a default handler on some other thread.
  const sigset_t signals = control_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    const auto options = parse_broker_options(argc, argv, std::cout);
    if (!options) return EXIT_SUCCESS;
    run(*options, signals);
    return EXIT_SUCCESS;
  } catch (const usage_error& e) {
    std::cerr << "cqrs-kafka-broker: " << e.what() << "\n(try --help)\n";
    return exit_usage;
  } catch (const std::exception& e) {
    core::logger("kafka-broker").error("broker failed", {{"error", e.what()}});
    return EXIT_FAILURE;
  }
}

}  // namespace
}  // namespace cqrs::tools::kafka_broker

int main(int argc, char** argv) { return cqrs::tools::kafka_broker::main(argc, argv); }
