#pragma once

// Rebuild without downtime, from the event store (never Kafka: its retention is short):
//  1. build a shadow model `<projection>.v<version>.<rebuild id>` from the whole category. Bulk
//     path (targets with a model_builder): the log is read once, in one COPY stream, for every
//     projection of the category; each projection folds it in memory (its final state per
//     stream or key, not the events), then writes the result at once (COPY in PostgreSQL,
//     pipelined whole-key writes in Redis) together with every stream's applied version. No
//     one else writes a shadow model, so no per-event check is needed. Other targets apply the
//     category event by event, as a projector does.
//  2. catch up, event by event with the exactly-once path, with what arrived meanwhile;
//  3. switch the live pointer to it in one atomic step (readers and appliers resolve the pointer
//     atomically with their read or change);
//  4. catch up once more: events the live projector applied to the old model between step 2
//     and the switch (the projector, now writing the new model, may apply the same ones: the
//     per-stream versions make the overlap harmless, and gaps are filled from the store);
//  5. drop the old model.
// An interruption before step 3 leaves the live model untouched; rerunning starts a new shadow
// (leftover shadows are not dropped automatically; see docs/projections.md).
//
// Per stream the bulk path sees versions in order and each once: the log's (xid, seq) order may
// show a stream's versions out of order (writers racing for a version), so events after a gap
// wait (in memory: only those) for the missing version, from the same read or, once the read is
// over, from the store.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/event_store.hpp"
#include "projections/target.hpp"

namespace cqrs::projections {

struct rebuild_progress {
  std::string projection;    // the projection, or the projections sharing the read ("a,b")
  std::string phase;         // "build", "write", "catch-up", "switch", "final catch-up"
  std::uint64_t events = 0;  // read so far in this phase
  double seconds = 0;
};

struct rebuild_options {
  std::size_t batch = 2000;  // events per read and per progress report
  std::string rebuild_id;    // empty: a random one
  std::function<void(const rebuild_progress&)> on_progress;
};

struct rebuild_report {
  std::string projection;
  std::string old_model;
  std::string new_model;
  std::uint64_t events = 0;  // events read for this model (build and catch-ups)
  double seconds = 0;        // from the start of the rebuild until this model was done
};

rebuild_report rebuild(projection_target& target, core::event_store& store, const rebuild_options& options);

// Several projections: one read of the log per category for all those with a bulk builder.
// Reports in the order of `targets`.
std::vector<rebuild_report> rebuild_all(std::span<projection_target* const> targets, core::event_store& store,
                                        const rebuild_options& options);

// Applies every event of the target's category after `after` into `model` (live when none);
// returns the position reached.
core::log_position catch_up(projection_target& target, core::event_store& store, core::log_position after,
                            const std::optional<std::string>& model, std::size_t batch,
                            const std::function<void(std::uint64_t)>& on_batch = {});

std::string random_rebuild_id();

}  // namespace cqrs::projections
