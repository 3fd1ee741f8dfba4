// cqrs processes: what the process managers are doing (docs/processes.md). `list` shows every
// process (or those in one state, or the stuck ones) with its step, deadline and last error, one
// JSON object a line; `show ID` one process with its actions and deadlines; `retry ID` makes a
// stuck process's failed actions, and any waiting for a backoff, due now.

#include <iostream>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "commands/processes/process_admin.hpp"
#include "core/pg_connection.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

namespace proc = commands::processes;

int list_processes(core::pg_connection& connection, const core::settings_source& source) {
  proc::process_filter filter;
  filter.step = source.raw("CQRS_STATE");
  filter.stuck_only = source.boolean("CQRS_STUCK", false);
  filter.limit = static_cast<std::size_t>(source.integer("CQRS_LIMIT", 100, 1, 10000));
  for (const auto& p : proc::list_processes(connection.get(), filter)) {
    std::cout << boost::json::serialize(proc::to_json(p)) << "\n";
  }
  return 0;
}

int show_process(core::pg_connection& connection, const std::string& id) {
  const auto found = proc::show_process(connection.get(), id);
  if (found.empty()) {
    std::cerr << fmt::format("cqrs processes: no process {}\n", id);
    return 1;
  }
  for (const auto& detail : found) std::cout << boost::json::serialize(proc::to_json(detail)) << "\n";
  return 0;
}

int retry_process(core::pg_connection& connection, const std::string& id) {
  const auto made_due = proc::retry_process(connection.get(), id);
  if (!made_due) {
    std::cerr << fmt::format("cqrs processes: no process {}\n", id);
    return 1;
  }
  std::cout << fmt::format("process {}: {} action(s) due again\n", id, *made_due);
  return 0;
}

int run_processes(const core::settings_source& source) {
  const auto action = source.text("CQRS_ACTION", "list");
  if (action != "list" && action != "show" && action != "retry") {
    throw core::config_error("CQRS_ACTION", "must be list, show or retry");
  }
  core::pg_connection connection(source.url("CQRS_PG_URL", "", {"postgresql", "postgres"}));
  if (action == "list") return list_processes(connection, source);
  const auto id = source.raw("CQRS_PROCESS_ID");
  if (!id) throw core::config_error("CQRS_PROCESS_ID", "is required for " + action);
  return action == "show" ? show_process(connection, *id) : retry_process(connection, *id);
}

std::vector<core::setting_spec> specs() {
  return {{"CQRS_PG_URL", "", "PostgreSQL connection URL (postgresql://user@host:port/db)"},
          {"CQRS_ACTION", "list", "list, show or retry", core::spec_kind::positional},
          {"CQRS_PROCESS_ID", "", "the process's id, e.g. an order id (show, retry)", core::spec_kind::positional},
          {"CQRS_STATE", "", "list: only processes in this state (step), e.g. charging", core::spec_kind::option},
          {"CQRS_STUCK", "", "list: only stuck processes", core::spec_kind::flag},
          {"CQRS_LIMIT", "100", "list: at most this many (1-10000)", core::spec_kind::option}};
}

}  // namespace

subcommand processes_subcommand() {
  return {"processes", "list, show or retry process managers (order fulfilment)", specs(), run_processes};
}

}  // namespace cqrs::tools::cli
