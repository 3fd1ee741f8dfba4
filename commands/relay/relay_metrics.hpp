#pragma once

// The relay's metrics, registered once in the process's registry (labelled with the relay name).

#include <string>

#include "core/metrics.hpp"

namespace cqrs::commands::relay {

struct relay_metrics {
  relay_metrics(core::metrics_registry& registry, const std::string& relay_name);

  core::counter& events;              // confirmed deliveries (rate() of it is events/s)
  core::counter& delivery_errors;     // failed deliveries and fatal producer errors
  core::counter& kafka_errors;        // librdkafka client errors (brokers down, ...)
  core::counter& store_errors;        // PostgreSQL failures while leading
  core::counter& leadership_losses;
  core::counter& topic_changes;       // topics found not to be the checkpoint's, and marked
  core::gauge& leader;                // 1 while this instance publishes
  core::gauge& lag_events;            // safe head minus checkpoint, approximately (see README)
  core::gauge& lag_seconds;           // age of the oldest event not yet confirmed
  core::gauge& store_xmin_lag_seconds;  // how long open writers hold the readers' watermark back
  core::gauge& in_flight;
  core::histogram& delivery_seconds;  // from recorded_at to Kafka's acknowledgement
};

}  // namespace cqrs::commands::relay
