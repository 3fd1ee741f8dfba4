#include "projections/projector_metrics.hpp"

namespace cqrs::projections {

namespace {

core::metric_labels labels(const std::string& projection) { return {{"projection", projection}}; }

}  // namespace

projection_metrics::projection_metrics(core::metrics_registry& registry, const std::string& projection)
    : applied(registry.make_counter("cqrs_projection_events_applied_total",
                                    "Events that changed the projection's read model", labels(projection))),
      duplicates(registry.make_counter("cqrs_projection_events_duplicate_total",
                                       "Redelivered events that changed nothing", labels(projection))),
      dead_lettered(registry.make_counter("cqrs_projection_events_dead_lettered_total",
                                          "Events recorded as dead letters and skipped", labels(projection))),
      recoveries(registry.make_counter("cqrs_projection_offset_recoveries_total",
                                       "Kafka offset jumps caught up from the event store", labels(projection))),
      lost_models(registry.make_counter("cqrs_projection_lost_models_total",
                                        "Live read models found emptied and applied again from the event store",
                                        labels(projection))),
      cut_offs(registry.make_counter("cqrs_projection_cut_offs_total",
                                     "Infrastructure failures that cut the read model off until it caught up "
                                     "from the event store",
                                     labels(projection))),
      unreachable(registry.make_gauge("cqrs_projection_unreachable",
                                      "1 while the read model is cut off (its server unreachable), else 0",
                                      labels(projection))),
      lag_events(registry.make_gauge("cqrs_projection_lag_events",
                                     "Kafka messages not yet applied on the projector's partitions",
                                     labels(projection))),
      lag_seconds(registry.make_gauge("cqrs_projection_lag_seconds",
                                      "Age of the newest applied event while lagging, 0 when caught up",
                                      labels(projection))) {}

std::map<std::string, projection_metrics> make_projection_metrics(core::metrics_registry& registry,
                                                                   const target_set& targets) {
  std::map<std::string, projection_metrics> metrics;
  for (const auto& target : targets.all()) metrics.try_emplace(target->info().name, registry, target->info().name);
  return metrics;
}

}  // namespace cqrs::projections
