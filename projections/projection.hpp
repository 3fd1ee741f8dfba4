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
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"

namespace pqxx {
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

// Handlers must be deterministic functions of the event: they run again on a rebuild and the
// results must be equal. Every event of the category passes through (to advance the stream's
// applied version); events a projection does not care about produce no change.
class redis_projection {
 public:
  virtual ~redis_projection() = default;
  virtual const projection_info& info() const = 0;
  virtual std::vector<redis_op> changes(const core::recorded_event& event) const = 0;
};

class pg_projection {
 public:
  virtual ~pg_projection() = default;
  virtual const projection_info& info() const = 0;
  // Runs inside the transaction that also records the stream's applied version.
  virtual void apply(pqxx::transaction_base& tx, const std::string& model, const core::recorded_event& event) const = 0;
  virtual void drop_model(pqxx::transaction_base& tx, const std::string& model) const = 0;
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
