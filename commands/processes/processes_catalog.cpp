#include "commands/processes/processes_catalog.hpp"

#include "commands/processes/order_fulfilment/order_fulfilment_domain.hpp"

namespace cqrs::commands::processes {

process_catalog engine_processes(const core::settings_source& source, core::metrics_registry&, const core::logger& log) {
  process_catalog catalog;
  order_fulfilment::add_order_fulfilment(catalog, source, log);
  return catalog;
}

std::vector<core::setting_spec> engine_process_settings() {
  std::vector<core::setting_spec> specs;
  const auto fulfilment = order_fulfilment::order_fulfilment_settings();
  specs.insert(specs.end(), fulfilment.begin(), fulfilment.end());
  return specs;
}

}  // namespace cqrs::commands::processes
