#pragma once

// The relay's settings: a subset of the engine's (PostgreSQL, Kafka, log level) and its own
// CQRS_RELAY_* settings, validated into plain structs. A wrong value raises core::config_error
// naming the variable.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/log_position.hpp"

namespace cqrs::commands::relay {

struct relay_options {
  std::string pg_url;
  core::kafka_config kafka;
  // The embedded broker's bootstrap file (core/kafka_bootstrap.hpp); empty: kafka.bootstrap only.
  std::string bootstrap_file;
  // Identifies the relay's checkpoint (with the topic) and its leadership lock: relays with the
  // same name and topic are one relay, of which one instance publishes at a time.
  std::string name = "main";
  std::size_t batch = 2000;                      // events per read of the log
  std::chrono::milliseconds poll{100};           // polling fallback when no notification comes
  std::chrono::milliseconds checkpoint_interval{200};
  std::size_t max_in_flight = 100000;            // produced but not yet acknowledged
  std::chrono::milliseconds standby_retry{1000}; // how often a standby tries to take the lead
  std::chrono::milliseconds shutdown_grace{10000};  // bound on flushing at shutdown
  core::log_position start_position{};           // where a relay without a checkpoint starts
  std::string metrics_file;                      // Prometheus text written here, if set
};

struct relay_process_config {
  relay_options relay;
  core::log_level log = core::log_level::info;
};

// The settings `cqrs-relay --help` documents, in order.
const std::vector<core::setting_spec>& relay_settings();

relay_process_config load_relay_config(const core::settings_source& source);

// librdkafka properties of the relay's producer: the safety settings it relies on (idempotence,
// acks=all, the gap-less guarantee, no local message timeout), batching defaults, then the
// operator's pass-through properties. Throws core::config_error when a pass-through property
// would weaken a safety setting.
core::key_values producer_properties(const relay_options& options);

}  // namespace cqrs::commands::relay
