#pragma once

// What operators see of processes and may do to them (`cqrs processes list|show|retry`,
// GET /v1/admin/processes): each process with its step, deadline, last error and whether it is
// stuck; one process with its actions and deadlines; and a retry that puts a stuck process's
// failed actions (and any waiting for a backoff or a parked call) back to due now.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace pqxx {
class connection_base;
}

namespace cqrs::commands::processes {

struct process_summary {
  std::string process_type;
  std::string process_id;
  std::string step;
  bool finished = false;
  bool stuck = false;
  std::optional<std::string> deadline;  // ISO 8601, UTC
  std::optional<std::string> last_error;
  int attempts = 0;
  std::string correlation_id;
  std::string created_at;
  std::string updated_at;
};

struct action_summary {
  std::int64_t id = 0;
  std::string kind;
  std::string key;
  std::string name;
  std::string status;
  int attempts = 0;
  std::string idempotency_key;
  std::string not_before;
  std::optional<std::string> last_error;
  std::optional<std::string> outcome;
};

struct deadline_summary {
  std::string name;
  std::string due_at;
};

struct process_detail {
  process_summary process;
  std::string state;
  std::vector<action_summary> actions;
  std::vector<deadline_summary> deadlines;
};

struct process_filter {
  std::optional<std::string> step;  // the "state" operators filter on
  bool stuck_only = false;
  std::size_t limit = 100;
  std::optional<std::string> after;  // keyset: list ids after this process id
};

// The queries below each run in one transaction on `connection`.
std::vector<process_summary> list_processes(pqxx::connection_base& connection, const process_filter& filter);
// Every process with this id (one per process type that uses it).
std::vector<process_detail> show_process(pqxx::connection_base& connection, const std::string& process_id);
// Retries the process's failed and waiting actions now and clears stuck; the number of actions
// made due, or nothing when no process has this id.
std::optional<std::size_t> retry_process(pqxx::connection_base& connection, const std::string& process_id);

struct process_counts {
  std::int64_t stuck = 0;
  std::int64_t pending_actions = 0;
};
process_counts count_processes(pqxx::connection_base& connection);

boost::json::object to_json(const process_summary& process);
boost::json::object to_json(const process_detail& detail);

}  // namespace cqrs::commands::processes
