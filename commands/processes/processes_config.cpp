#include "commands/processes/processes_config.hpp"

#include <algorithm>
#include <array>

#include "core/kafka_bootstrap.hpp"
#include "core/supervision.hpp"

namespace cqrs::commands::processes {

namespace {

using namespace std::chrono_literals;

// The engine settings cqrs-processes reads; their help text stays defined once, in core.
constexpr std::array shared_settings = {"CQRS_PG_URL", "CQRS_KAFKA_BOOTSTRAP", "CQRS_KAFKA_TOPIC",
                                        "CQRS_KAFKA_PROPERTIES", "CQRS_KAFKA_PROPERTIES_FILE", "CQRS_LOG_LEVEL"};

std::vector<core::setting_spec> own_settings() {
  return {
      core::kafka::bootstrap_file_spec(),
      {"CQRS_PROCESSES_GROUP", "cqrs-processes", "Kafka consumer group of the process runtime"},
      {"CQRS_PROCESSES_WORKERS", "8", "threads carrying out commands, effects and deadlines (1-64)"},
      {"CQRS_PROCESSES_MAX_ATTEMPTS", "8", "transient failures of a command before its process is stuck (1-1000)"},
      {"CQRS_PROCESSES_BACKOFF_MS", "200", "ceiling of the first retry's delay, doubled per attempt (1-60000)"},
      {"CQRS_PROCESSES_MAX_BACKOFF_MS", "10000", "largest ceiling of a retry's delay (1-600000)"},
      {"CQRS_PROCESSES_LEASE_MS", "30000", "how long a taken action is its worker's before another may take it (100-3600000)"},
      {"CQRS_PROCESSES_POLL_MS", "200", "a worker's longest sleep with nothing due (20-60000)"},
      {"CQRS_PROCESSES_HANDLED_RETENTION_MS", "604800000",
       "how long a finished process keeps its handled-event records before they are pruned (0-31536000000)"},
      {"CQRS_PROCESSES_METRICS_FILE", "", "write the runtime's metrics (Prometheus text) to this file every second"},
  };
}

retry_settings load_retry(const core::settings_source& source) {
  retry_settings retry;
  retry.max_attempts = static_cast<int>(source.integer("CQRS_PROCESSES_MAX_ATTEMPTS", retry.max_attempts, 1, 1000));
  retry.backoff.initial_backoff = source.milliseconds("CQRS_PROCESSES_BACKOFF_MS", retry.backoff.initial_backoff, 1ms, 60000ms);
  retry.backoff.max_backoff = source.milliseconds("CQRS_PROCESSES_MAX_BACKOFF_MS", retry.backoff.max_backoff, 1ms, 600000ms);
  return retry;
}

}  // namespace

std::vector<core::setting_spec> processes_settings(const std::vector<core::setting_spec>& extra) {
  std::vector<core::setting_spec> all;
  for (const auto& spec : core::engine_settings()) {
    if (std::find(shared_settings.begin(), shared_settings.end(), spec.env) != shared_settings.end()) all.push_back(spec);
  }
  const auto own = own_settings();
  all.insert(all.end(), own.begin(), own.end());
  all.insert(all.end(), extra.begin(), extra.end());
  all.push_back(core::supervisor_restarts_spec());
  return all;
}

processes_config load_processes_config(const core::settings_source& source) {
  processes_config c;
  c.runtime.pg_url = source.url("CQRS_PG_URL", "", {"postgresql", "postgres"});
  c.runtime.lease = source.milliseconds("CQRS_PROCESSES_LEASE_MS", c.runtime.lease, 100ms, 3600000ms);
  c.runtime.idle_poll = source.milliseconds("CQRS_PROCESSES_POLL_MS", c.runtime.idle_poll, 20ms, 60000ms);
  c.runtime.retry = load_retry(source);
  c.runtime.handled_retention =
      source.milliseconds("CQRS_PROCESSES_HANDLED_RETENTION_MS", c.runtime.handled_retention, 0ms, 31536000000ms);
  const auto kafka = core::load_kafka_config(source);
  c.consumer.bootstrap = kafka.bootstrap;
  c.consumer.topic = kafka.topic;
  c.consumer.properties = kafka.properties;
  c.consumer.bootstrap_file = source.text("CQRS_KAFKA_BOOTSTRAP_FILE", "");
  c.consumer.group = source.text("CQRS_PROCESSES_GROUP", c.consumer.group);
  c.workers = static_cast<int>(source.integer("CQRS_PROCESSES_WORKERS", c.workers, 1, 64));
  c.metrics_file = source.text("CQRS_PROCESSES_METRICS_FILE", "");
  c.log = source.level("CQRS_LOG_LEVEL", c.log);
  return c;
}

}  // namespace cqrs::commands::processes
