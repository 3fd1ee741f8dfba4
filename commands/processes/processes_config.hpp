#pragma once

// cqrs-processes' settings: PostgreSQL, Kafka and the log level shared with the engine, and its
// own CQRS_PROCESSES_* settings, validated into plain structs. A wrong value raises
// core::config_error naming the variable.

#include <string>
#include <vector>

#include "commands/processes/event_consumer.hpp"
#include "commands/processes/process_runtime.hpp"
#include "core/config.hpp"
#include "core/log.hpp"

namespace cqrs::commands::processes {

struct processes_config {
  runtime_options runtime;
  consumer_config consumer;
  int workers = 8;  // a provider call holds its worker up to its time limit: 2 left orders waiting behind hangs
  std::string metrics_file;
  core::log_level log = core::log_level::info;
};

// The settings `cqrs-processes --help` documents, in order (`extra`: the processes' own, such as
// CQRS_ORDER_PAYMENT_TIMEOUT and the payment provider's resilience settings).
std::vector<core::setting_spec> processes_settings(const std::vector<core::setting_spec>& extra = {});

processes_config load_processes_config(const core::settings_source& source);

}  // namespace cqrs::commands::processes
