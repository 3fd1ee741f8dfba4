// cqrs-relay: publishes the event store's global log to Kafka (see commands/relay/README.md and
// --help). Several may run: one publishes, the others stand by. SIGTERM or SIGINT: stop reading,
// wait for in-flight deliveries (CQRS_RELAY_SHUTDOWN_MS at most), save the checkpoint, exit 0.

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <thread>

#include "commands/relay/relay.hpp"
#include "core/config.hpp"
#include "core/metrics.hpp"
#include "core/metrics_endpoint.hpp"
#include "core/supervision.hpp"

extern char** environ;

namespace cqrs::commands::relay {
namespace {

constexpr int exit_usage = 2;

int serve(const relay_process_config& config, const core::settings_source& source, const sigset_t& signals) {
  const core::logger log("cqrs-relay", config.log);
  core::metrics_registry registry;
  const auto restarts = core::publish_supervisor_restarts(source, registry);
  if (restarts > 0) log.warn("started again by the supervisor", {{"restarts", std::to_string(restarts)}});
  relay publisher(config.relay, log, registry);
  const auto endpoint = core::serve_metrics(source, registry, log);  // GET /metrics, if CQRS_METRICS_PORT is set
  std::atomic<bool> finished{false};
  std::jthread worker([&](std::stop_token stop) {
    publisher.run(stop);
    finished = true;
  });
  core::wait_for_stop(signals, worker, finished, log);
  worker.join();
  return EXIT_SUCCESS;
}

int main(int argc, char** argv) {
  // Blocked before any thread starts, so every thread inherits the mask and the signals reach
  // only sigtimedwait in the main thread.
  const sigset_t signals = core::stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    const auto source = core::settings_source::from_command_line(argc, argv, environ, relay_settings());
    if (source.help_requested()) {
      std::cout << core::settings_help("cqrs-relay", "Publishes the event store's global log to Kafka.", relay_settings());
      return EXIT_SUCCESS;
    }
    return serve(load_relay_config(source), source, signals);
  } catch (const core::config_error& e) {
    std::cerr << "cqrs-relay: " << e.what() << "\n(try --help)\n";
    return exit_usage;
  } catch (const std::exception& e) {
    core::logger("cqrs-relay").error("relay failed", {{"error", e.what()}});
    return EXIT_FAILURE;
  }
}

}  // namespace
}  // namespace cqrs::commands::relay

int main(int argc, char** argv) { return cqrs::commands::relay::main(argc, argv); }
