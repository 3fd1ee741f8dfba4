#pragma once

// What a projection is: a name, a version, the stream category it reads, its target (Redis or
// PostgreSQL) and what each event does to its read model. Runtime code (targets, projector,
// rebuild) only sees these interfaces, so adding a projection touches no runtime code: write a
// class and list it in projections/catalog.cpp.
//
// A read model lives under a *model* name (`<projection>.v<version>.<tag>`): the live model is
// the one a pointer (a Redis key, a PostgreSQL row) names; a rebuild fills another model and
// switches the pointer in one atomic step.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"

namespace pqxx {
class connection_base;
class transaction_base;
}

namespace cqrs::projections {

enum class target_kind { redis, postgres };
std::string_view to_string(target_kind kind);

struct projection_info {
  std::string name;
  int version = 1;
  std::string category;  // the stream category it reads
  target_kind target = target_kind::redis;

  // The model a fresh database starts with.
  std::string initial_model() const { return model_name("initial"); }
  std::string model_name(std::string_view tag) const;
};

// One change of a Redis read model; `key` is relative to the model's key prefix.
struct redis_op {
  std::string command;  // a write command whose first argument is the key (HSET, HINCRBY, SET, DEL)
  std::string key;
  std::vector<std::string> args;
};

// The bulk path of a rebuild's build phase (rebuild.hpp). A fresh shadow model has no other
// writer, so instead of one exactly-once step per event the runtime folds the whole history in
// memory and writes the result once. The runtime hands `add` every event of the category
// exactly once and, per stream, in version order (it tracks the applied versions itself and
// records them with the written model), so a fold keeps only the model's final state: memory
// proportional to the model (one entry per stream or key), not to the history.
// A fold must produce exactly the model the per-event path would (tests compare digests).
// `stream` numbers the event's stream densely from 0, in order of first appearance, the same for
// every event of the stream: per-stream state can live in a vector instead of a hash table.
class redis_fold {
 public:
  virtual ~redis_fold() = default;
  virtual void add(const core::recorded_event& event, std::size_t stream) = 0;
  // The final content of every key as write commands (keys relative to the model); each key's
  // commands are emitted together. Called once, after the last add.
  virtual void emit(const std::function<void(redis_op&&)>& write) = 0;
};

class pg_fold {
 public:
  virtual ~pg_fold() = default;
  virtual void add(const core::recorded_event& event, std::size_t stream) = 0;
  // Writes the final model into `model` (empty so far), e.g. with COPY, inside the transaction
  // that also records the streams' applied versions. Called once, after the last add.
  virtual void write(pqxx::transaction_base& tx, const std::string& model) = 0;
};

// Handlers must be deterministic functions of the event: they run again on a rebuild and the
// results must be equal. Every event of the category passes through (to advance the stream's
// applied version); events a projection does not care about produce no change.
class redis_projection {
 public:
  virtual ~redis_projection() = default;
  virtual const projection_info& info() const = 0;
  virtual std::vector<redis_op> changes(const core::recorded_event& event) const = 0;
  // The bulk path. The default runs changes() against an in-memory copy of the model's keys
  // (HSET, HINCRBY, SET, DEL, with Redis's semantics and hash field order), so every Redis
  // projection has one without code; override only to go faster.
  virtual std::unique_ptr<redis_fold> start_fold() const;
};

class pg_projection {
 public:
  virtual ~pg_projection() = default;
  virtual const projection_info& info() const = 0;
  // Runs inside the transaction that also records the stream's applied version.
  virtual void apply(pqxx::transaction_base& tx, const std::string& model, const core::recorded_event& event) const = 0;
  // A projector's batch in one go, with the same result as apply() on each event in order. The
  // target hands over only events that take effect, in version order per stream (gaps already
  // filled). Override to replace a statement per event by a few per batch; the default loops.
  virtual void apply_batch(pqxx::transaction_base& tx, const std::string& model,
                           std::span<const core::recorded_event> events) const {
    for (const auto& event : events) apply(tx, model, event);
  }
  // Registers the statements the handlers run with exec_prepared. The target calls it on every
  // new connection (also after a reconnect), before any handler runs there.
  virtual void prepare(pqxx::connection_base& /*connection*/) const {}
  virtual void drop_model(pqxx::transaction_base& tx, const std::string& model) const = 0;
  // The bulk path; nullptr (the default) makes a rebuild apply event by event, as a projector
  // does, so a new projection works without one.
  virtual std::unique_ptr<pg_fold> start_fold() const { return nullptr; }
};

// Thrown by handlers for an event they cannot apply (a poison event): undecodable payload,
// impossible data. Infrastructure failures use other exception types.
class handler_error : public std::runtime_error {
 public:
  handler_error(core::recorded_event event, const std::string& why)
      : std::runtime_error(why), event_(std::move(event)) {}
  // The event that could not be applied (not necessarily the one being delivered: a gap fill
  // may have met it).
  const core::recorded_event& event() const { return event_; }

 private:
  core::recorded_event event_;
};

}  // namespace cqrs::projections
