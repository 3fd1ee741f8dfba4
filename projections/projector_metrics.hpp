#pragma once

// A projector's metrics, one series per projection (label `projection`), in the process's
// registry (core/metrics.hpp). The projector writes them as Prometheus text to a file every
// second (CQRS_PROJECTOR_METRICS_FILE); the gateway will expose the registry later.

#include <map>
#include <string>

#include "core/metrics.hpp"
#include "projections/catalog.hpp"

namespace cqrs::projections {

struct projection_metrics {
  projection_metrics(core::metrics_registry& registry, const std::string& projection);

  core::counter& applied;        // events that took effect (store gap fills included)
  core::counter& duplicates;     // redelivered events that changed nothing
  core::counter& dead_lettered;  // events given up on
  core::counter& recoveries;     // offset jumps recovered from the event store
  core::counter& lost_models;    // live models found emptied, applied again from the event store
  core::counter& cut_offs;       // infrastructure failures that cut the model off (its server unreachable)
  core::gauge& unreachable;      // 1 while the model is cut off and catching up from the store, else 0
  core::gauge& lag_events;       // Kafka messages not yet applied on the assigned partitions
  core::gauge& lag_seconds;      // age of the newest applied event while lagging, else 0
};

// One entry per target, by projection name.
std::map<std::string, projection_metrics> make_projection_metrics(core::metrics_registry& registry,
                                                                   const target_set& targets);

}  // namespace cqrs::projections
