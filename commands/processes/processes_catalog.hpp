#pragma once

// The engine's process managers, one line each in processes_catalog.cpp, with what they command:
// the aggregates' senders and the effects' performers. cqrs-processes runs them all.

#include <functional>
#include <string>
#include <vector>

#include "commands/processes/command_sender.hpp"
#include "commands/processes/process_runtime.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::commands::processes {

struct process_catalog {
  std::vector<registered_process> processes;
  command_sender sender;
  // Prometheus text of the processes' clients (the payment provider's resilience series), added
  // to the metrics file.
  std::vector<std::function<std::string()>> metrics_texts;
};

// Every process, configured from `source` (throws core::config_error); their clients' metrics go
// to `registry`.
process_catalog engine_processes(const core::settings_source& source, core::metrics_registry& registry,
                                 const core::logger& log);

// The processes' own settings, for --help.
std::vector<core::setting_spec> engine_process_settings();

}  // namespace cqrs::commands::processes
