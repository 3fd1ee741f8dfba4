#pragma once

// Rebuild without downtime, from the event store (never Kafka: its retention is short):
//  1. fill a shadow model `<projection>.v<version>.<rebuild id>` from the whole category, in
//     batches (pipelined Redis scripts / one transaction per batch);
//  2. switch the live pointer to it in one atomic step (readers and appliers resolve the pointer
//     atomically with their read or change);
//  3. catch up the events that arrived meanwhile (the live projector may also apply them: the
//     per-stream versions make the overlap harmless, and gaps are filled from the store);
//  4. drop the old model.
// An interruption before step 2 leaves the live model untouched; rerunning starts a new shadow
// (leftover shadows are listed by `cqrs projections` and dropped by the next rebuild's step 4
// only if live; see docs/projections.md).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/event_store.hpp"
#include "projections/target.hpp"

namespace cqrs::projections {

struct rebuild_progress {
  std::string phase;         // "build", "catch-up"
  std::uint64_t events = 0;  // applied so far in this phase
  double seconds = 0;
};

struct rebuild_options {
  std::size_t batch = 2000;
  std::string rebuild_id;  // empty: a random one
  std::function<void(const rebuild_progress&)> on_progress;
};

struct rebuild_report {
  std::string old_model;
  std::string new_model;
  std::uint64_t events = 0;
  double seconds = 0;
};

rebuild_report rebuild(projection_target& target, core::event_store& store, const rebuild_options& options);

// Applies every event of the target's category after `after` into `model` (live when none);
// returns the position reached.
core::log_position catch_up(projection_target& target, core::event_store& store, core::log_position after,
                            const std::optional<std::string>& model, std::size_t batch,
                            const std::function<void(std::uint64_t)>& on_batch = {});

std::string random_rebuild_id();

}  // namespace cqrs::projections
