#pragma once

// A projection bound to its store (Redis or PostgreSQL): the runtime's single view of either.
//
// Exactly-once effect: each event's change and the record of its stream's applied version are
// one atomic step (one Lua script in Redis, one transaction in PostgreSQL). An event at or below
// the applied version changes nothing (a redelivery); an event beyond applied + 1 first pulls the
// missing versions from the event store (never skips: Kafka retention or a reset offset may have
// lost them).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "core/event_store.hpp"
#include "projections/projection.hpp"

namespace cqrs::projections {

struct apply_counts {
  std::uint64_t applied = 0;     // took effect now (events pulled from the store included)
  std::uint64_t duplicates = 0;  // already applied: no change
  std::uint64_t filled = 0;      // missing versions read from the event store

  apply_counts& operator+=(const apply_counts& other);
};

// The bulk build of one fresh model (rebuild.hpp): the projection's fold plus the writing of its
// result and of every stream's applied version. Same thread as its target.
class model_builder {
 public:
  virtual ~model_builder() = default;
  // Every event of the category once, in version order per stream (the rebuild guarantees it);
  // `stream` numbers streams densely from 0 (see redis_fold).
  virtual void add(const core::recorded_event& event, std::size_t stream) = 0;
  // Writes the folded model and `applied` (stream -> last version folded) into the model.
  virtual void write(const std::unordered_map<std::string, std::int64_t>& applied) = 0;
  // Whether write() uses only a connection of its own (then it may run beside other work).
  virtual bool owns_connection() const = 0;
};

class projection_target {
 public:
  virtual ~projection_target() = default;
  virtual const projection_info& info() const = 0;

  // Applies `events` in order into `model`, or into the live model when none is given (resolved
  // inside the same atomic step, so a concurrent switch never splits an event).
  virtual apply_counts apply(std::span<const core::recorded_event> events,
                             const std::optional<std::string>& model = std::nullopt) = 0;
  // Applies one event ignoring and then advancing the applied version: dead-letter retries only.
  virtual void force_apply(const core::recorded_event& event) = 0;
  // Advances the live model's applied version past `event` without its change (a dead-lettered
  // event), after applying any missing versions before it.
  virtual void skip(const core::recorded_event& event) = 0;

  virtual std::string live_model() = 0;
  virtual void switch_live(const std::string& model) = 0;
  virtual void drop_model(const std::string& model) = 0;
  // The stream's applied version in the live model (0 when none).
  virtual core::stream_version applied_version(const core::stream_id& stream) = 0;
  // A bulk builder for `model` (fresh, unused), or nullptr: build it event by event with apply.
  virtual std::unique_ptr<model_builder> start_build(const std::string& model) = 0;
  // True once after an apply to the live model found the store without the model's pointer and
  // made it again: the first apply ever, or a store that lost its data (a Redis restarted without
  // persistence). Stores that cannot lose data alone never say so.
  virtual bool take_live_pointer_made() { return false; }
};

namespace detail {

// The stream's events with versions in [from, before), from the event store.
std::vector<core::recorded_event> missing_events(core::event_store& store, const core::stream_id& stream,
                                                 core::stream_version from, core::stream_version before);

}  // namespace detail

}  // namespace cqrs::projections
