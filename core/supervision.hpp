#pragma once

// What a long-running process knows about its supervisor: the dev stack's (tools/lib/common.sh,
// `supervise`) starts a process again when it exits and tells it, in CQRS_SUPERVISOR_RESTARTS,
// how often it has done so. Each process publishes that count in its metrics and its start-up log
// line, so that a process that keeps dying is visible without reading the supervisor's files.

#include <cstdint>

#include "core/config.hpp"
#include "core/metrics.hpp"

namespace cqrs::core {

// CQRS_SUPERVISOR_RESTARTS, for a process's --help.
setting_spec supervisor_restarts_spec();

// The count (0 when unset), published as the gauge cqrs_process_restarts; a bad value is a
// config_error.
std::int64_t publish_supervisor_restarts(const settings_source& source, metrics_registry& registry);

}  // namespace cqrs::core
