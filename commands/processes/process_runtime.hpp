#pragma once

// The process-manager runtime (docs/processes.md): hands each event to the processes that follow
// its category (process_store::handle_event: reaction, handled record and actions in one
// transaction), and runs workers that fire due deadlines and carry out due actions: commands
// through the target aggregate's command pipeline (command_sender), effects through the
// processes' performers, each with its deterministic idempotency key. A crash anywhere leaves
// either nothing committed (the event comes again) or actions pending (taken again, with the same
// keys, so each applies once).
//
// handle() belongs to one thread (the consumer's); each worker has its own connections.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "commands/processes/action_results.hpp"
#include "commands/processes/command_sender.hpp"
#include "commands/processes/process_definition.hpp"
#include "commands/processes/process_store.hpp"
#include "commands/processes/processes_metrics.hpp"
#include "core/commit_notifier.hpp"
#include "core/event_store.hpp"
#include "core/log.hpp"

namespace cqrs::commands::processes {

// A process and what carries out its effects (null: it asks for commands only).
struct registered_process {
  std::unique_ptr<process_definition> definition;
  std::unique_ptr<effect_performer_factory> effects;
};

struct runtime_options {
  std::string pg_url;
  std::size_t take_batch = 16;                   // actions a worker takes at once
  std::chrono::milliseconds lease{30'000};       // how long a taken action is a worker's
  std::chrono::milliseconds idle_poll{200};      // a worker's longest sleep with nothing due
  retry_settings retry;
};

class process_runtime {
 public:
  process_runtime(runtime_options options, std::vector<registered_process> processes, command_sender sender,
                  core::logger log, processes_metrics& metrics);
  process_runtime(const process_runtime&) = delete;
  process_runtime& operator=(const process_runtime&) = delete;

  // The categories every process follows together (the consumer ignores the rest).
  std::vector<std::string> categories() const;

  // Handles one event for every process that follows its category, then wakes the workers.
  // PostgreSQL failures leave as core::store_error (the event is not handled: deliver it again).
  void handle(const core::recorded_event& event);

  // One worker: fires due deadlines and carries out due actions until `stop`. Infrastructure
  // failures are logged and waited out; anything else leaves.
  void run_worker(const std::stop_token& stop);

  // One round of a worker (tests): deadlines fired plus actions carried out.
  std::size_t work_once(process_store& store, core::event_store& events, std::vector<std::unique_ptr<effect_performer>>& performers);

  // A worker's performers, one per registered process (null where it has no effects).
  std::vector<std::unique_ptr<effect_performer>> make_performers() const;

  const std::string& pg_url() const { return options_.pg_url; }
  const runtime_options& options() const { return options_; }

 private:
  const registered_process* find(std::string_view type) const;
  action_result carry_out(const pending_action& action, core::event_store& events,
                          std::vector<std::unique_ptr<effect_performer>>& performers);
  void count(const action_result& result);
  void sleep(const std::stop_token& stop, std::chrono::milliseconds at_most);
  void wake();

  runtime_options options_;
  std::vector<registered_process> processes_;
  std::vector<const process_definition*> definitions_;
  command_sender sender_;
  core::logger log_;
  processes_metrics& metrics_;
  // The workers' appends wake the relay as the gateway's do; without it they reached Kafka only
  // at the relay's polling fallback, adding up to that interval to every hop of a saga.
  core::commit_notifier notifier_;
  process_store consumer_store_;  // handle()'s, the consumer thread's
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::uint64_t generation_ = 0;  // bumped by wake()
};

}  // namespace cqrs::commands::processes
