#pragma once

// What carrying out one action (a command or an effect) came to, and who carries effects out.
//
// - done: final; an effect's answer goes to the process's on_effect, a command was accepted.
// - refused: final; the aggregate rejected the command (recorded as the process's last error).
// - transient: try again later with backoff (a conflict that outlasted the pipeline's retries,
//   PostgreSQL restarting, a provider error, a timeout, a lost answer). Counts towards the attempt
//   limit unless the effect is unlimited; past the limit the process is stuck.
// - parked: the dependency refuses calls for now (an open circuit breaker): try again after
//   `retry_after`, without counting an attempt.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace cqrs::core {
class event_store;
}

namespace cqrs::commands::processes {

struct action_done {
  std::string result;
};

struct action_refused {
  std::string why;
};

struct action_transient {
  std::string why;
};

struct action_parked {
  std::string why;
  std::chrono::milliseconds retry_after{1000};
};

using action_result = std::variant<action_done, action_refused, action_transient, action_parked>;

struct effect_call {
  std::string process_type;
  std::string process_id;
  std::string key;             // the effect's key within the process
  std::string idempotency_key;  // "<type>:<id>:<key>"
  std::string name;
  std::string payload;
  std::string correlation_id;
  std::string causation_id;
};

// Carries out a process's effects. One per worker thread (it may hold connections and clients of
// its own); `store` is the worker's event store (one thread).
class effect_performer {
 public:
  virtual ~effect_performer() = default;
  virtual action_result perform(const effect_call& call, core::event_store& store) = 0;
};

// Makes a worker thread's performer.
class effect_performer_factory {
 public:
  virtual ~effect_performer_factory() = default;
  virtual std::unique_ptr<effect_performer> make() const = 0;
};

}  // namespace cqrs::commands::processes
