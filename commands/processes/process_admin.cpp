#include "commands/processes/process_admin.hpp"

#include <pqxx/pqxx>

namespace cqrs::commands::processes {

namespace {

#define CQRS_ISO(column) "to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

constexpr const char* summary_columns =
    "SELECT process_type, process_id, step, finished, stuck, " CQRS_ISO("deadline") ", last_error, attempts, "
    "correlation_id, " CQRS_ISO("created_at") ", " CQRS_ISO("updated_at") ", state FROM process_instances ";

std::optional<std::string> optional_text(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::string>();
}

process_summary to_summary(const pqxx::row& row) {
  return {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<bool>(),
          row[4].as<bool>(),        optional_text(row[5]),   optional_text(row[6]),   row[7].as<int>(),
          row[8].as<std::string>(), row[9].as<std::string>(), row[10].as<std::string>()};
}

std::vector<action_summary> actions_of(pqxx::transaction_base& tx, const process_summary& p) {
  const auto rows = tx.exec_params(
      "SELECT id, kind, key, name, status, attempts, idempotency_key, " CQRS_ISO("not_before") ", last_error, outcome "
      "FROM process_actions WHERE process_type = $1 AND process_id = $2 ORDER BY id",
      p.process_type, p.process_id);
  std::vector<action_summary> out;
  for (const auto& r : rows) {
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                   r[4].as<std::string>(), r[5].as<int>(), r[6].as<std::string>(), r[7].as<std::string>(),
                   optional_text(r[8]), optional_text(r[9])});
  }
  return out;
}

std::vector<deadline_summary> deadlines_of(pqxx::transaction_base& tx, const process_summary& p) {
  const auto rows = tx.exec_params("SELECT name, " CQRS_ISO("due_at") " FROM process_deadlines "
                                   "WHERE process_type = $1 AND process_id = $2 ORDER BY due_at",
                                   p.process_type, p.process_id);
  std::vector<deadline_summary> out;
  for (const auto& r : rows) out.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
  return out;
}

#undef CQRS_ISO

boost::json::value optional_json(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return boost::json::value(*text);
}

}  // namespace

std::vector<process_summary> list_processes(pqxx::connection_base& connection, const process_filter& filter) {
  pqxx::read_transaction tx(connection);
  const auto rows = tx.exec_params(std::string(summary_columns) +
                                       "WHERE ($1::text IS NULL OR step = $1::text) AND (NOT $2::boolean OR stuck) "
                                       "AND ($3::text IS NULL OR process_id > $3::text) "
                                       "ORDER BY process_id, process_type LIMIT $4",
                                   filter.step, filter.stuck_only, filter.after, static_cast<std::int64_t>(filter.limit));
  std::vector<process_summary> out;
  for (const auto& row : rows) out.push_back(to_summary(row));
  return out;
}

std::vector<process_detail> show_process(pqxx::connection_base& connection, const std::string& process_id) {
  pqxx::read_transaction tx(connection);
  const auto rows = tx.exec_params(std::string(summary_columns) + "WHERE process_id = $1 ORDER BY process_type", process_id);
  std::vector<process_detail> out;
  for (const auto& row : rows) {
    process_detail detail{to_summary(row), row[11].as<std::string>(), {}, {}};
    detail.actions = actions_of(tx, detail.process);
    detail.deadlines = deadlines_of(tx, detail.process);
    out.push_back(std::move(detail));
  }
  return out;
}

std::optional<std::size_t> retry_process(pqxx::connection_base& connection, const std::string& process_id) {
  pqxx::work tx(connection);
  const auto found = tx.exec_params(
      "UPDATE process_instances SET stuck = false, attempts = 0, updated_at = now() WHERE process_id = $1 RETURNING 1",
      process_id);
  if (found.empty()) return std::nullopt;
  const auto actions = tx.exec_params(
      "UPDATE process_actions SET status = 'pending', attempts = 0, not_before = now(), leased_until = NULL "
      "WHERE process_id = $1 AND (status = 'failed' OR (status = 'pending' AND leased_until IS NULL)) RETURNING 1",
      process_id);
  tx.commit();
  return actions.size();
}

process_counts count_processes(pqxx::connection_base& connection) {
  pqxx::read_transaction tx(connection);
  const auto row = tx.exec1(
      "SELECT (SELECT count(*) FROM process_instances WHERE stuck), "
      "(SELECT count(*) FROM process_actions WHERE status = 'pending')");
  return {row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
}

boost::json::object to_json(const process_summary& p) {
  return {{"process_type", p.process_type},
          {"id", p.process_id},
          {"state", p.step},
          {"finished", p.finished},
          {"stuck", p.stuck},
          {"deadline", optional_json(p.deadline)},
          {"last_error", optional_json(p.last_error)},
          {"attempts", p.attempts},
          {"correlation_id", p.correlation_id},
          {"created_at", p.created_at},
          {"updated_at", p.updated_at}};
}

boost::json::object to_json(const process_detail& detail) {
  auto out = to_json(detail.process);
  boost::json::array actions;
  for (const auto& a : detail.actions) {
    actions.push_back(boost::json::object{{"id", a.id},
                                          {"kind", a.kind},
                                          {"key", a.key},
                                          {"target", a.name},
                                          {"status", a.status},
                                          {"attempts", a.attempts},
                                          {"idempotency_key", a.idempotency_key},
                                          {"not_before", a.not_before},
                                          {"last_error", optional_json(a.last_error)},
                                          {"outcome", optional_json(a.outcome)}});
  }
  boost::json::array deadlines;
  for (const auto& d : detail.deadlines) deadlines.push_back(boost::json::object{{"name", d.name}, {"due_at", d.due_at}});
  out["data"] = detail.state;
  out["actions"] = std::move(actions);
  out["deadlines"] = std::move(deadlines);
  return out;
}

}  // namespace cqrs::commands::processes
