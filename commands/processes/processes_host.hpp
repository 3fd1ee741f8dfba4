#pragma once

// cqrs-processes' threads: the consumer (events topic -> process_runtime::handle) on the calling
// thread, the runtime's workers, and the metrics file once a second. Infrastructure failures (Kafka
// away, PostgreSQL restarting) are logged and waited out with backoff; the consumer is made again
// after a failed event, which then comes again.

#include <stop_token>

#include "commands/processes/processes_config.hpp"
#include "commands/processes/process_runtime.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::commands::processes {

class processes_host {
 public:
  processes_host(const processes_config& config, process_runtime& runtime, core::logger log,
                 core::metrics_registry& registry, processes_metrics& metrics);

  // Until `stop`: consumes on this thread; workers stop and are joined before it returns.
  void run(const std::stop_token& stop);

 private:
  void consume(const std::stop_token& stop);
  void report_metrics(const std::stop_token& stop);

  const processes_config& config_;
  process_runtime& runtime_;
  core::logger log_;
  core::metrics_registry& registry_;
  processes_metrics& metrics_;
};

}  // namespace cqrs::commands::processes
