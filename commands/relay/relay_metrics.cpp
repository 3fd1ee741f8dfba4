#include "commands/relay/relay_metrics.hpp"

namespace cqrs::commands::relay {

namespace {

core::counter& error_counter(core::metrics_registry& registry, const std::string& relay, const char* kind) {
  return registry.make_counter("cqrs_relay_errors_total", "Relay errors by kind", {{"relay", relay}, {"kind", kind}});
}

}  // namespace

relay_metrics::relay_metrics(core::metrics_registry& registry, const std::string& relay_name)
    : events(registry.make_counter("cqrs_relay_events_total", "Events confirmed delivered to Kafka",
                                   {{"relay", relay_name}})),
      delivery_errors(error_counter(registry, relay_name, "delivery")),
      kafka_errors(error_counter(registry, relay_name, "kafka")),
      store_errors(error_counter(registry, relay_name, "store")),
      leadership_losses(error_counter(registry, relay_name, "leadership")),
      topic_changes(registry.make_counter("cqrs_relay_topic_changes_total",
                                          "Topics found not to be the one the checkpoint was made on (marked)",
                                          {{"relay", relay_name}})),
      leader(registry.make_gauge("cqrs_relay_leader", "1 while this relay instance publishes", {{"relay", relay_name}})),
      lag_events(registry.make_gauge("cqrs_relay_lag_events", "Events between the checkpoint and the safe head",
                                     {{"relay", relay_name}})),
      lag_seconds(registry.make_gauge("cqrs_relay_lag_seconds", "Age of the oldest event not yet confirmed",
                                      {{"relay", relay_name}})),
      store_xmin_lag_seconds(registry.make_gauge(
          "cqrs_store_xmin_lag_seconds",
          "Age of the oldest open writing transaction: the global log is read only below it", {{"relay", relay_name}})),
      in_flight(registry.make_gauge("cqrs_relay_in_flight", "Events produced and not yet acknowledged",
                                    {{"relay", relay_name}})),
      delivery_seconds(registry.make_histogram("cqrs_relay_delivery_seconds",
                                               "From an event's recorded_at to Kafka's acknowledgement",
                                               core::exponential_buckets(0.001, 2, 16), {{"relay", relay_name}})) {}

}  // namespace cqrs::commands::relay
