#pragma once

// The process runtime's PostgreSQL side (migration 0090, docs/processes.md). Every reaction of a
// process is one transaction: the instance's new state, the handled event (or the fired deadline,
// or the finished action), the actions it asks for and its deadlines. Workers then take due
// actions under a lease, carry them out outside any transaction, and record the result (with
// the process's reaction to an effect's answer) in another.
//
// One connection, hence one thread at a time (libpqxx's rule); each thread of the runtime has a
// store of its own.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "commands/processes/action_results.hpp"
#include "commands/processes/process_definition.hpp"
#include "core/events.hpp"
#include "core/pg_connection.hpp"
#include "core/resilience/retry.hpp"

namespace pqxx {
class transaction_base;
}

namespace cqrs::commands::processes {

// An action as a worker takes it.
struct pending_action {
  std::int64_t id = 0;
  std::string process_type;
  std::string process_id;
  std::string kind;  // "command" or "effect"
  std::string key;
  std::string name;  // a command's target stream, an effect's name
  std::string payload_type;
  int payload_version = 0;
  std::string payload;
  std::string idempotency_key;
  bool limited = true;
  std::string correlation_id;
  std::string causation_id;
  int attempts = 0;  // failed attempts so far
};

// How failed actions are tried again.
struct retry_settings {
  int max_attempts = 8;  // transient failures of a limited action before the process is stuck
  core::resilience::retry_config backoff{.max_attempts = 8,
                                         .initial_backoff = std::chrono::milliseconds{200},
                                         .multiplier = 2,
                                         .max_backoff = std::chrono::milliseconds{10'000},
                                         .total_deadline = std::chrono::milliseconds{0}};
};

// What handling one event came to, for metrics and tests.
enum class handled_as { ignored, duplicate, no_instance, reacted, unchanged };

class process_store {
 public:
  explicit process_store(std::string pg_url, retry_settings retry = {});

  // Handles `event` for `process` (route, redelivery check, reaction) in one transaction, retried
  // as a whole after a PostgreSQL failure (a commit in doubt included: the handled row makes the
  // retry a no-op when the first one committed).
  handled_as handle_event(const process_definition& process, const core::recorded_event& event);

  // Fires due deadlines (each in its own transaction); returns how many fired.
  std::size_t fire_due_deadlines(const std::vector<const process_definition*>& processes, std::size_t limit);

  // Takes up to `limit` due actions of these process types, each the oldest unfinished action of
  // its process, leasing them for `lease` (a worker that dies leaves them to be taken again after
  // it).
  std::vector<pending_action> take_due(const std::vector<std::string>& types, std::size_t limit,
                                       std::chrono::milliseconds lease);

  // Records what carrying `action` out came to (and, for an effect's answer, the process's
  // reaction). A result for an action no longer pending (cancelled, or finished by another worker
  // after the lease ran out) is dropped.
  void complete(const process_definition& process, const pending_action& action, const action_result& result);

  // The earliest moment something may be due (an action or a deadline), for the workers' sleep.
  std::optional<std::chrono::milliseconds> next_due_in();

  // Prunes the handled-event records of up to `limit` finished processes of these types whose last
  // change is older than `retention`, each in its own transaction under the instance's lock: per
  // stream, the versions handled without a gap from the first are folded into the instance's
  // handled_through (migration 0091) and their rows deleted. handle_event counts an event at or
  // below that version as a duplicate, so a redelivered event of a pruned process changes nothing,
  // and a new one is handled as ever. Returns how many processes were pruned.
  std::size_t prune_handled(const std::vector<std::string>& types, std::chrono::milliseconds retention,
                            std::size_t limit);

 private:
  template <typename Work>
  void in_transaction(const Work& work);
  void fire(const process_definition& process, const std::string& process_id, const std::string& name);
  bool prune_one(const std::string& type, const std::string& process_id, std::chrono::milliseconds retention);
  void record_result(pqxx::transaction_base& tx, const process_definition& process, const pending_action& action,
                     const action_result& result);

  core::pg_connection connection_;
  retry_settings retry_;
  core::resilience::backoff backoff_;
};

namespace detail {
// The reaction stored for the instance (created when absent), with its actions and deadlines.
void store_reaction(pqxx::transaction_base& tx, std::string_view type, const std::string& process_id,
                    const reaction& r, const std::string& correlation_id, const std::string& causation_id);
std::optional<instance_view> lock_instance(pqxx::transaction_base& tx, std::string_view type, const std::string& id);
// Whether the locked instance's pruned records say the event was handled (handled_through).
bool handled_before(pqxx::transaction_base& tx, std::string_view type, const std::string& id,
                    const core::recorded_event& event);
}  // namespace detail

}  // namespace cqrs::commands::processes
