#pragma once

// What a long-running process knows about its supervisor: the dev stack's (tools/lib/common.sh,
// `supervise`) starts a process again when it exits and tells it, in CQRS_SUPERVISOR_RESTARTS,
// how often it has done so. Each process publishes that count in its metrics and its start-up log
// line, so that a process that keeps dying is visible without reading the supervisor's files.

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::core {

// CQRS_SUPERVISOR_RESTARTS, for a process's --help.
setting_spec supervisor_restarts_spec();

// The count (0 when unset), published as the gauge cqrs_process_restarts; a bad value is a
// config_error.
std::int64_t publish_supervisor_restarts(const settings_source& source, metrics_registry& registry);

// SIGTERM and SIGINT, a long-running process's stop. main() blocks them before any thread starts
// (pthread_sigmask), so every thread inherits the mask and only wait_for_stop receives them.
sigset_t stop_signals();

// Waits for a stop signal, or for `finished` (the worker ended on its own), then requests the
// worker's stop. Logs the signal.
void wait_for_stop(const sigset_t& signals, std::jthread& worker, const std::atomic<bool>& finished,
                   const logger& log);

}  // namespace cqrs::core
