#include "commands/relay/relay_config.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "core/kafka_bootstrap.hpp"
#include "core/metrics_endpoint.hpp"
#include "core/supervision.hpp"

namespace cqrs::commands::relay {

namespace {

using namespace std::chrono_literals;

// The engine settings the relay reads; their help text stays defined once, in core.
constexpr std::array shared_settings = {"CQRS_PG_URL", "CQRS_KAFKA_BOOTSTRAP", "CQRS_KAFKA_TOPIC",
                                        "CQRS_KAFKA_PROPERTIES", "CQRS_KAFKA_PROPERTIES_FILE", "CQRS_LOG_LEVEL"};

const std::vector<core::setting_spec>& own_settings() {
  static const std::vector<core::setting_spec> specs = {
    core::kafka::bootstrap_file_spec(),
    {"CQRS_RELAY_NAME", "main", "relay identity: its checkpoint and leadership lock ([A-Za-z0-9_.-], 1-100)"},
    {"CQRS_RELAY_BATCH", "2000", "events per read of the global log (1-10000)"},
    {"CQRS_RELAY_POLL_MS", "100", "polling fallback: read again after this long without a notification (1-60000)"},
    {"CQRS_RELAY_CHECKPOINT_MS", "200", "save the checkpoint (and prove leadership) this often (10-60000)"},
    {"CQRS_RELAY_MAX_IN_FLIGHT", "100000", "events produced but not yet acknowledged, at most (100-1000000)"},
    {"CQRS_RELAY_STANDBY_RETRY_MS", "1000", "a standby tries to take the lead this often (50-60000)"},
    {"CQRS_RELAY_SHUTDOWN_MS", "10000", "on SIGTERM, wait at most this long for in-flight deliveries (0-600000)"},
    {"CQRS_RELAY_START_POSITION", "", "log position token to start from when there is no checkpoint (default: the beginning)"},
    {"CQRS_RELAY_METRICS_FILE", "", "write the relay's metrics (Prometheus text) to this file every second"},
  };
  return specs;
}

// Properties the relay's guarantees rest on (ordering and no gaps per partition, see README).
const core::key_values& safety_properties() {
  static const core::key_values properties = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"enable.gapless.guarantee", "true"},
      {"message.timeout.ms", "0"},  // never give up on a message locally: a timeout could leave a gap
  };
  return properties;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

std::string load_name(const core::settings_source& source) {
  auto name = source.text("CQRS_RELAY_NAME", "main");
  if (name.size() > 100 || !std::all_of(name.begin(), name.end(), is_name_char)) {
    throw core::config_error("CQRS_RELAY_NAME", fmt::format("expected 1-100 of [A-Za-z0-9_.-], got '{}'", name));
  }
  return name;
}

core::log_position load_start(const core::settings_source& source) {
  const auto parsed = core::log_position::parse(source.text("CQRS_RELAY_START_POSITION", ""));
  if (!parsed) throw core::config_error("CQRS_RELAY_START_POSITION", parsed.error().detail);
  return parsed.value();
}

std::size_t count(const core::settings_source& source, const char* variable, std::int64_t fallback, std::int64_t min,
                  std::int64_t max) {
  return static_cast<std::size_t>(source.integer(variable, fallback, min, max));
}

relay_options load_options(const core::settings_source& source) {
  relay_options o;
  o.pg_url = source.url("CQRS_PG_URL", "", {"postgresql", "postgres"});
  o.kafka = core::load_kafka_config(source);
  o.bootstrap_file = source.text("CQRS_KAFKA_BOOTSTRAP_FILE", "");
  o.name = load_name(source);
  o.batch = count(source, "CQRS_RELAY_BATCH", 2000, 1, 10000);
  o.poll = source.milliseconds("CQRS_RELAY_POLL_MS", o.poll, 1ms, 60000ms);
  o.checkpoint_interval = source.milliseconds("CQRS_RELAY_CHECKPOINT_MS", o.checkpoint_interval, 10ms, 60000ms);
  o.max_in_flight = count(source, "CQRS_RELAY_MAX_IN_FLIGHT", 100000, 100, 1000000);
  o.standby_retry = source.milliseconds("CQRS_RELAY_STANDBY_RETRY_MS", o.standby_retry, 50ms, 60000ms);
  o.shutdown_grace = source.milliseconds("CQRS_RELAY_SHUTDOWN_MS", o.shutdown_grace, 0ms, 600000ms);
  o.start_position = load_start(source);
  o.metrics_file = source.text("CQRS_RELAY_METRICS_FILE", "");
  return o;
}

struct required_property {
  std::string_view key;
  std::vector<std::string_view> accepted;
};

// The safety properties under every name librdkafka accepts for them.
const std::vector<required_property>& required_properties() {
  static const std::vector<required_property> properties = {
      {"enable.idempotence", {"true"}},         {"acks", {"all", "-1"}},
      {"request.required.acks", {"all", "-1"}}, {"enable.gapless.guarantee", {"true"}},
      {"message.timeout.ms", {"0"}},            {"delivery.timeout.ms", {"0"}},
  };
  return properties;
}

void check_not_weakened(const core::key_values& properties) {
  for (const auto& [key, value] : properties) {
    for (const auto& required : required_properties()) {
      if (key != required.key) continue;
      if (std::find(required.accepted.begin(), required.accepted.end(), value) != required.accepted.end()) continue;
      throw core::config_error("CQRS_KAFKA_PROPERTIES", fmt::format("the relay requires {}={} (got {})", key,
                                                                    required.accepted.front(), value));
    }
  }
}

}  // namespace

const std::vector<core::setting_spec>& relay_settings() {
  static const std::vector<core::setting_spec> specs = [] {
    std::vector<core::setting_spec> all;
    for (const auto& spec : core::engine_settings()) {
      if (std::find(shared_settings.begin(), shared_settings.end(), spec.env) != shared_settings.end()) all.push_back(spec);
    }
    all.insert(all.end(), own_settings().begin(), own_settings().end());
    all.push_back(core::supervisor_restarts_spec());
    const auto metrics = core::metrics_endpoint_specs();
    all.insert(all.end(), metrics.begin(), metrics.end());
    return all;
  }();
  return specs;
}

relay_process_config load_relay_config(const core::settings_source& source) {
  return relay_process_config{load_options(source), source.level("CQRS_LOG_LEVEL", core::log_level::info)};
}

core::key_values producer_properties(const relay_options& options) {
  check_not_weakened(options.kafka.properties);
  core::key_values all = {{"bootstrap.servers", options.kafka.bootstrap}};
  all.insert(all.end(), safety_properties().begin(), safety_properties().end());
  const core::key_values batching = {
      // Batches fill up by themselves under load (the queue holds a backlog). A trickle waits at most
      // this long. Not 1: while messages arrive faster than linger.ms, librdkafka's broker threads
      // poll with ~1 ms timeouts, and at 1 ms they spent ~150 us of CPU per event at 2,000 events/s
      // (three brokers); at 5, ~65 us.
      {"linger.ms", "5"},
      // Catch up soon after Kafka returns (the default backs off to 10 s between reconnects).
      {"reconnect.backoff.max.ms", "1000"},
      {"message.max.bytes", "4000000"},  // a 1 MiB payload (the store's limit) plus headers
      {"batch.num.messages", "10000"},
      {"batch.size", "4000000"},
      // Room for everything the relay keeps in flight, so producing never meets a full queue.
      {"queue.buffering.max.messages", std::to_string(options.max_in_flight + options.batch)},
      // Java's partitioner: a stream lands on the same partition whichever client produced it.
      {"partitioner", "murmur2_random"},
      {"client.id", "cqrs-relay-" + options.name},
  };
  all.insert(all.end(), batching.begin(), batching.end());
  all.insert(all.end(), options.kafka.properties.begin(), options.kafka.properties.end());
  return all;
}

}  // namespace cqrs::commands::relay
