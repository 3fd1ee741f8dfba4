#include "commands/processes/processes_catalog.hpp"

namespace cqrs::commands::processes {

process_catalog engine_processes(const core::settings_source&, core::metrics_registry&, const core::logger&) {
  return {};
}

std::vector<core::setting_spec> engine_process_settings() { return {}; }

}  // namespace cqrs::commands::processes
