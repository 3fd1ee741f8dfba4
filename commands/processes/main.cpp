// cqrs-processes: the process managers (docs/processes.md, --help). Consumes the events topic in
// its own consumer group, keeps each process's state in PostgreSQL and carries out the commands
// and effects the processes ask for. Several may run: they share the partitions and the due
// actions. SIGTERM or SIGINT: stop consuming, let the workers finish what they hold, exit 0.

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <thread>

#include "commands/processes/processes_catalog.hpp"
#include "commands/processes/processes_config.hpp"
#include "commands/processes/processes_host.hpp"
#include "core/config.hpp"
#include "core/metrics.hpp"
#include "core/metrics_endpoint.hpp"
#include "core/supervision.hpp"

extern char** environ;

namespace cqrs::commands::processes {
namespace {

constexpr int exit_usage = 2;
constexpr const char* program = "cqrs-processes";

int serve(const processes_config& config, const core::settings_source& source, const sigset_t& signals) {
  const core::logger log(program, config.log);
  core::metrics_registry registry;
  const auto restarts = core::publish_supervisor_restarts(source, registry);
  if (restarts > 0) log.warn("started again by the supervisor", {{"restarts", std::to_string(restarts)}});
  processes_metrics metrics(registry);
  auto catalog = engine_processes(source, registry, log);
  // GET /metrics when CQRS_METRICS_PORT is set: the runtime's series and the processes' own
  // (the card processor's client and its resilience instance), as the metrics file has them.
  const auto endpoint = core::serve_metrics(source, registry, log, [texts = catalog.metrics_texts] {
    std::string more;
    for (const auto& text : texts) more += text();
    return more;
  });
  process_runtime runtime(config.runtime, std::move(catalog.processes), std::move(catalog.sender), log, metrics);
  processes_host host(config, runtime, log, registry, metrics, std::move(catalog.metrics_texts));
  std::atomic<bool> finished{false};
  std::exception_ptr failure;
  std::jthread worker([&](std::stop_token stop) {
    try {
      host.run(stop);
    } catch (...) {
      failure = std::current_exception();
    }
    finished = true;
  });
  core::wait_for_stop(signals, worker, finished, log);
  worker.join();
  if (failure) std::rethrow_exception(failure);
  return EXIT_SUCCESS;
}

std::vector<core::setting_spec> all_settings() {
  auto extra = engine_process_settings();
  const auto endpoint = core::metrics_endpoint_specs();
  extra.insert(extra.end(), endpoint.begin(), endpoint.end());
  return processes_settings(extra);
}

int main(int argc, char** argv) {
  const sigset_t signals = core::stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    const auto specs = all_settings();
    const auto source = core::settings_source::from_command_line(argc, argv, environ, specs);
    if (source.help_requested()) {
      std::cout << core::settings_help(program, "Runs the process managers (order fulfilment).", specs);
      return EXIT_SUCCESS;
    }
    return serve(load_processes_config(source), source, signals);
  } catch (const core::config_error& e) {
    std::cerr << program << ": " << e.what() << "\n(try --help)\n";
    return exit_usage;
  } catch (const std::exception& e) {
    core::logger(program).error("processes failed", {{"error", e.what()}});
    return EXIT_FAILURE;
  }
}

}  // namespace
}  // namespace cqrs::commands::processes

int main(int argc, char** argv) { return cqrs::commands::processes::main(argc, argv); }
