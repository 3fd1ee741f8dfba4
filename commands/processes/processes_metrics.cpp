#include "commands/processes/processes_metrics.hpp"

namespace cqrs::commands::processes {

namespace {

core::counter& events(core::metrics_registry& registry, const char* outcome) {
  return registry.make_counter("cqrs_processes_events_total", "Events seen by the process runtime, by outcome",
                               {{"outcome", outcome}});
}

core::counter& actions(core::metrics_registry& registry, const char* outcome) {
  return registry.make_counter("cqrs_processes_actions_total",
                               "Attempts to carry out a process's command or effect, by outcome", {{"outcome", outcome}});
}

core::counter& errors(core::metrics_registry& registry, const char* kind) {
  return registry.make_counter("cqrs_processes_errors_total", "Infrastructure failures of the process runtime",
                               {{"kind", kind}});
}

}  // namespace

processes_metrics::processes_metrics(core::metrics_registry& registry)
    : events_reacted(events(registry, "reacted")),
      events_duplicate(events(registry, "duplicate")),
      events_other(events(registry, "ignored")),
      actions_done(actions(registry, "done")),
      actions_refused(actions(registry, "refused")),
      actions_transient(actions(registry, "transient")),
      actions_parked(actions(registry, "parked")),
      deadlines_fired(registry.make_counter("cqrs_processes_deadlines_fired_total", "Process deadlines that fired")),
      store_errors(errors(registry, "store")),
      kafka_errors(errors(registry, "kafka")),
      stuck(registry.make_gauge("cqrs_processes_stuck", "Processes stuck after an action gave up (cqrs processes retry)")),
      pending_actions(registry.make_gauge("cqrs_processes_pending_actions", "Commands and effects not yet carried out")) {}

}  // namespace cqrs::commands::processes
