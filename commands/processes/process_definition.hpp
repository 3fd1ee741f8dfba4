#pragma once

// What a process manager is to the runtime (process_runtime.hpp). A process reacts to events of
// the categories it follows, to its own deadlines and to the results of its effects; each reaction
// is pure: the process's new state and what it asks for (commands to aggregates, effects such as a
// call to the card processor, deadlines to set or clear). The runtime stores the reaction, the
// handled event and the requested actions in one PostgreSQL transaction, then carries the actions
// out, in order per process, with deterministic idempotency keys.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"
#include "core/ids.hpp"
#include "schemas/contracts/encoded_payload.hpp"

namespace cqrs::commands::processes {

// A command for an aggregate, sent through the target's command pipeline. `key` names the command
// within the process (unique per process, the same on every redelivery): the idempotency key sent
// is "<process type>:<process id>:<key>".
struct command_request {
  std::string key;
  core::stream_id target;
  schemas::encoded_payload command;
};

// Work outside the event store (a call to the card processor, a reservation over several
// streams), run by the process's effect_performer. Its result comes back to on_effect. `key`
// names it within the process like a command's; `payload` is the process's own text.
struct effect_request {
  std::string key;
  std::string name;
  std::string payload;
  // Whether transient failures count towards the runtime's attempt limit (false: retried with
  // backoff until the process cancels it, e.g. a charge until the payment's deadline).
  bool limited = true;
};

struct deadline_request {
  std::string name;
  std::chrono::milliseconds after;  // from now
};

// A process's answer to anything that happened. Keys of commands and effects already requested
// earlier are ignored (a redelivery asks for nothing new).
struct reaction {
  std::string state;  // the process's data as it stores it (its own encoding)
  std::string step;   // where it is, for operators ("charging", "paid", ...)
  bool finished = false;
  std::vector<command_request> commands;
  std::vector<effect_request> effects;
  std::vector<deadline_request> set_deadlines;
  std::vector<std::string> clear_deadlines;
  // Effects (by key) to stop retrying: a pending one is cancelled; one in flight finishes and its
  // result still comes to on_effect.
  std::vector<std::string> cancel_effects;
  // Other names the process is found by (route::by_alias), e.g. its payment's id.
  std::vector<std::string> aliases;
};

// A process as stored, as its reactions see it.
struct instance_view {
  std::string process_id;
  std::string state;
  std::string step;
  bool finished = false;
};

// Which instance an event concerns, and whether the event may start it. With `by_alias`,
// `process_id` is an alias an earlier reaction registered (reaction::aliases); an alias nobody
// registered concerns no instance.
struct route {
  std::string process_id;
  bool starts = false;
  bool by_alias = false;
};

struct effect_outcome {
  std::string key;
  std::string name;
  std::string payload;
  std::string result;  // the performer's answer (effect_result::done)
};

class process_definition {
 public:
  virtual ~process_definition() = default;

  // Stable name: the instances' process_type, the prefix of every idempotency key.
  virtual std::string_view type() const = 0;
  // Event categories this process follows.
  virtual std::vector<std::string> categories() const = 0;
  // Nothing: the event does not concern this process.
  virtual std::optional<route> route_of(const core::recorded_event& event) const = 0;
  // `current` is empty only for an event that starts the process.
  virtual std::optional<reaction> on_event(const std::optional<instance_view>& current,
                                           const core::recorded_event& event) const = 0;
  virtual std::optional<reaction> on_deadline(const instance_view& current, std::string_view name) const = 0;
  virtual std::optional<reaction> on_effect(const instance_view& current, const effect_outcome& done) const = 0;
};

}  // namespace cqrs::commands::processes
