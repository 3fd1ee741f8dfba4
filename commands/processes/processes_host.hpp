#pragma once

// cqrs-processes' threads: the consumer (events topic -> process_runtime::handle) on the calling
// thread, the runtime's workers, and the metrics file once a second. Infrastructure failures (Kafka
// away, PostgreSQL restarting) are logged and waited out with backoff; the consumer is made again
// after a failed event, which then comes again.

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "commands/processes/processes_config.hpp"
#include "commands/processes/process_runtime.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::commands::processes {

class processes_host {
 public:
  // `more_metrics`: Prometheus text of the processes' clients, added to the metrics file.
  processes_host(const processes_config& config, process_runtime& runtime, core::logger log,
                 core::metrics_registry& registry, processes_metrics& metrics,
                 std::vector<std::function<std::string()>> more_metrics = {});

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
  std::vector<std::function<std::string()>> more_metrics_;
};

}  // namespace cqrs::commands::processes
