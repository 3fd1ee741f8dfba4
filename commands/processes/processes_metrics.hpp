#pragma once

// The process runtime's metrics, registered once in the process's registry and written to the
// metrics file of cqrs-processes (engine/processes.metrics in the dev stack).

#include "core/metrics.hpp"

namespace cqrs::commands::processes {

struct processes_metrics {
  explicit processes_metrics(core::metrics_registry& registry);

  core::counter& events_reacted;     // events a process reacted to
  core::counter& events_duplicate;   // redelivered events found handled already
  core::counter& events_other;       // events no process reacted to (no instance, nothing to do)
  core::counter& actions_done;
  core::counter& actions_refused;
  core::counter& actions_transient;  // failed attempts tried again later
  core::counter& actions_parked;     // refused by an open breaker, tried again when it may close
  core::counter& deadlines_fired;
  core::counter& store_errors;       // PostgreSQL failures met by the consumer or a worker
  core::counter& kafka_errors;
  core::gauge& stuck;                // processes waiting for an operator
  core::gauge& pending_actions;
};

}  // namespace cqrs::commands::processes
