#include "commands/processes/process_store.hpp"

#include <algorithm>
#include <utility>

#include <pqxx/pqxx>

#include "core/pg_arrays.hpp"

namespace cqrs::commands::processes {

namespace {

std::string idempotency_key(std::string_view type, const std::string& process_id, const std::string& key) {
  return std::string(type) + ":" + process_id + ":" + key;
}

void insert_command(pqxx::transaction_base& tx, std::string_view type, const std::string& process_id,
                    const command_request& c, const std::string& correlation_id, const std::string& causation_id) {
  tx.exec_params(
      "INSERT INTO process_actions (process_type, process_id, kind, key, name, payload_type, payload_version, payload, "
      "idempotency_key, correlation_id, causation_id) VALUES ($1, $2, 'command', $3, $4, $5, $6, $7, $8, $9, $10) "
      "ON CONFLICT (idempotency_key) DO NOTHING",
      std::string(type), process_id, c.key, c.target.str(), c.command.type, c.command.schema_version, c.command.data,
      idempotency_key(type, process_id, c.key), correlation_id, causation_id);
}

void insert_effect(pqxx::transaction_base& tx, std::string_view type, const std::string& process_id,
                   const effect_request& e, const std::string& correlation_id, const std::string& causation_id) {
  tx.exec_params(
      "INSERT INTO process_actions (process_type, process_id, kind, key, name, payload, idempotency_key, limited, "
      "correlation_id, causation_id) VALUES ($1, $2, 'effect', $3, $4, $5, $6, $7, $8, $9) "
      "ON CONFLICT (idempotency_key) DO NOTHING",
      std::string(type), process_id, e.key, e.name, e.payload, idempotency_key(type, process_id, e.key), e.limited,
      correlation_id, causation_id);
}

// A pending effect is cancelled at once; one in flight (leased) is marked, and its result decides:
// a transient one then cancels it, an answer still reaches the process.
void cancel_effects(pqxx::transaction_base& tx, std::string_view type, const std::string& process_id,
                    const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    tx.exec_params(
        "UPDATE process_actions SET cancel_requested = true, "
        "status = CASE WHEN leased_until > now() THEN status ELSE 'cancelled' END, "
        "done_at = CASE WHEN leased_until > now() THEN done_at ELSE now() END "
        "WHERE process_type = $1 AND process_id = $2 AND key = $3 AND kind = 'effect' "
        "AND status IN ('pending', 'failed')",
        std::string(type), process_id, key);
  }
}

void store_deadlines(pqxx::transaction_base& tx, std::string_view type, const std::string& process_id,
                     const reaction& r) {
  for (const auto& name : r.clear_deadlines) {
    tx.exec_params("DELETE FROM process_deadlines WHERE process_type = $1 AND process_id = $2 AND name = $3",
                   std::string(type), process_id, name);
  }
  for (const auto& d : r.set_deadlines) {
    tx.exec_params(
        "INSERT INTO process_deadlines (process_type, process_id, name, due_at) "
        "VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond') "
        "ON CONFLICT (process_type, process_id, name) DO UPDATE SET due_at = EXCLUDED.due_at",
        std::string(type), process_id, d.name, static_cast<std::int64_t>(d.after.count()));
  }
}

pending_action to_action(const pqxx::row& row) {
  return {row["id"].as<std::int64_t>(),         row["process_type"].as<std::string>(),
          row["process_id"].as<std::string>(),  row["kind"].as<std::string>(),
          row["key"].as<std::string>(),         row["name"].as<std::string>(),
          row["payload_type"].as<std::string>(), row["payload_version"].as<int>(),
          row["payload"].as<std::string>(),     row["idempotency_key"].as<std::string>(),
          row["limited"].as<bool>(),            row["correlation_id"].as<std::string>(),
          row["causation_id"].as<std::string>(), row["attempts"].as<int>()};
}

std::vector<std::string> types_of(const std::vector<const process_definition*>& processes) {
  std::vector<std::string> types;
  for (const auto* p : processes) types.emplace_back(p->type());
  return types;
}

std::string correlation_of(const core::recorded_event& event) {
  return event.metadata.correlation_id.value_or(event.id.to_string());
}

}  // namespace

std::optional<instance_view> detail::lock_instance(pqxx::transaction_base& tx, std::string_view type,
                                                   const std::string& id) {
  // FOR UPDATE locks nothing while the instance does not exist yet: two events that each start it
  // (an order placed and its payment requested, on two partitions handled by two workers) would
  // both react to "no instance" and the later upsert would drop the earlier reaction. The lock on
  // the instance's key, held to the end of the transaction, orders them: the second reads the
  // first's row (read committed: each statement sees what committed before it).
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))", std::string(type), id);
  const auto rows = tx.exec_params(
      "SELECT state, step, finished FROM process_instances WHERE process_type = $1 AND process_id = $2 FOR UPDATE",
      std::string(type), id);
  if (rows.empty()) return std::nullopt;
  return instance_view{id, rows[0][0].as<std::string>(), rows[0][1].as<std::string>(), rows[0][2].as<bool>()};
}

bool detail::handled_before(pqxx::transaction_base& tx, std::string_view type, const std::string& id,
                            const core::recorded_event& event) {
  const auto rows = tx.exec_params(
      "SELECT (handled_through ->> $3)::bigint >= $4 FROM process_instances WHERE process_type = $1 AND process_id = $2",
      std::string(type), id, event.stream.str(), event.version.value());
  return !rows.empty() && !rows[0][0].is_null() && rows[0][0].as<bool>();
}

void detail::store_reaction(pqxx::transaction_base& tx, std::string_view type, const std::string& process_id,
                            const reaction& r, const std::string& correlation_id, const std::string& causation_id) {
  tx.exec_params(
      "INSERT INTO process_instances (process_type, process_id, step, state, finished, correlation_id, last_event_id) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (process_type, process_id) DO UPDATE SET "
      "step = EXCLUDED.step, state = EXCLUDED.state, finished = EXCLUDED.finished, "
      "last_event_id = EXCLUDED.last_event_id, updated_at = now(), handled_pruned_at = NULL",
      std::string(type), process_id, r.step, r.state, r.finished, correlation_id, causation_id);
  for (const auto& c : r.commands) insert_command(tx, type, process_id, c, correlation_id, causation_id);
  for (const auto& e : r.effects) insert_effect(tx, type, process_id, e, correlation_id, causation_id);
  cancel_effects(tx, type, process_id, r.cancel_effects);
  store_deadlines(tx, type, process_id, r);
  for (const auto& alias : r.aliases) {
    tx.exec_params("INSERT INTO process_aliases (process_type, alias, process_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                   std::string(type), alias, process_id);
  }
  tx.exec_params(
      "UPDATE process_instances SET deadline = (SELECT min(due_at) FROM process_deadlines d "
      "WHERE d.process_type = $1 AND d.process_id = $2) WHERE process_type = $1 AND process_id = $2",
      std::string(type), process_id);
}

process_store::process_store(std::string pg_url, retry_settings retry)
    : connection_(std::move(pg_url)), retry_(retry), backoff_(retry.backoff) {}

// Every transaction here may run again after any PostgreSQL failure, a commit in doubt included:
// each finds what a first run committed (the handled row, the deadline gone, the action no longer
// pending) and changes nothing.
template <typename Work>
void process_store::in_transaction(const Work& work) {
  core::run_with_retries(
      {.max_attempts = 3, .first_backoff = std::chrono::milliseconds{50}}, core::statement_effect::none_on_failure,
      [&] {
        pqxx::work tx(connection_.get());
        work(tx);
        tx.commit();
      },
      [&](const core::store_error&) { connection_.reset(); });
}

handled_as process_store::handle_event(const process_definition& process, const core::recorded_event& event) {
  auto where = process.route_of(event);
  if (!where) return handled_as::ignored;
  handled_as outcome = handled_as::ignored;
  const std::string type(process.type());
  in_transaction([&](pqxx::transaction_base& tx) {
    if (where->by_alias) {
      const auto found = tx.exec_params("SELECT process_id FROM process_aliases WHERE process_type = $1 AND alias = $2",
                                        type, where->process_id);
      if (found.empty()) {
        outcome = handled_as::no_instance;
        return;
      }
      where = route{found[0][0].as<std::string>(), false, false};
    }
    const auto fresh = tx.exec_params(
        "INSERT INTO process_handled (process_type, process_id, stream_id, stream_version, event_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
        type, where->process_id, event.stream.str(), event.version.value(), event.id.to_string());
    if (fresh.empty()) {
      outcome = handled_as::duplicate;
      return;
    }
    const auto current = detail::lock_instance(tx, type, where->process_id);
    if (!current && !where->starts) {
      outcome = handled_as::no_instance;
      return;
    }
    // Its row was pruned (read under the instance's lock, after any pruning committed).
    if (current && detail::handled_before(tx, type, where->process_id, event)) {
      tx.exec_params(
          "DELETE FROM process_handled WHERE process_type = $1 AND process_id = $2 AND stream_id = $3 "
          "AND stream_version = $4",
          type, where->process_id, event.stream.str(), event.version.value());
      outcome = handled_as::duplicate;
      return;
    }
    const auto reacted = process.on_event(current, event);
    outcome = reacted ? handled_as::reacted : handled_as::unchanged;
    if (reacted) {
      detail::store_reaction(tx, type, where->process_id, *reacted, correlation_of(event), event.id.to_string());
    } else if (current) {
      // A new record to prune some day.
      tx.exec_params(
          "UPDATE process_instances SET handled_pruned_at = NULL WHERE process_type = $1 AND process_id = $2 "
          "AND handled_pruned_at IS NOT NULL",
          type, where->process_id);
    }
  });
  return outcome;
}

std::size_t process_store::fire_due_deadlines(const std::vector<const process_definition*>& processes,
                                              std::size_t limit) {
  std::vector<std::tuple<std::string, std::string, std::string>> due;
  in_transaction([&](pqxx::transaction_base& tx) {
    due.clear();
    const auto rows = tx.exec_params(
        "SELECT process_type, process_id, name FROM process_deadlines WHERE due_at <= now() "
        "AND process_type = ANY($2::text[]) ORDER BY due_at LIMIT $1",
        static_cast<std::int64_t>(limit), core::pg_array(types_of(processes)));
    for (const auto& row : rows) due.emplace_back(row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>());
  });
  std::size_t fired = 0;
  for (const auto& [type, id, name] : due) {
    const auto found = std::find_if(processes.begin(), processes.end(), [&](const auto* p) { return p->type() == type; });
    if (found == processes.end()) continue;  // another runtime's process
    fire(**found, id, name);
    ++fired;
  }
  return fired;
}

// The deadline row is deleted in the reaction's transaction: it fires once, whoever fires it.
void process_store::fire(const process_definition& process, const std::string& process_id, const std::string& name) {
  const std::string type(process.type());
  in_transaction([&](pqxx::transaction_base& tx) {
    const auto gone = tx.exec_params(
        "DELETE FROM process_deadlines WHERE process_type = $1 AND process_id = $2 AND name = $3 AND due_at <= now() "
        "RETURNING 1",
        type, process_id, name);
    if (gone.empty()) return;
    const auto current = detail::lock_instance(tx, type, process_id);
    const auto reacted = current ? process.on_deadline(*current, name) : std::nullopt;
    const auto ids = tx.exec_params(
        "SELECT correlation_id, last_event_id FROM process_instances WHERE process_type = $1 AND process_id = $2",
        type, process_id);
    if (reacted && !ids.empty()) {
      detail::store_reaction(tx, type, process_id, *reacted, ids[0][0].as<std::string>(), ids[0][1].as<std::string>());
      return;
    }
    tx.exec_params(
        "UPDATE process_instances SET deadline = (SELECT min(due_at) FROM process_deadlines d "
        "WHERE d.process_type = $1 AND d.process_id = $2) WHERE process_type = $1 AND process_id = $2",
        type, process_id);
  });
}

std::vector<pending_action> process_store::take_due(const std::vector<std::string>& types, std::size_t limit,
                                                    std::chrono::milliseconds lease) {
  std::vector<pending_action> taken;
  in_transaction([&](pqxx::transaction_base& tx) {
    taken.clear();
    const auto rows = tx.exec_params(
        "WITH due AS (SELECT a.id FROM process_actions a JOIN process_instances i "
        "ON i.process_type = a.process_type AND i.process_id = a.process_id "
        "WHERE a.status = 'pending' AND a.not_before <= now() AND NOT i.stuck AND a.process_type = ANY($3::text[]) "
        "AND NOT EXISTS (SELECT 1 FROM process_actions b WHERE b.process_type = a.process_type "
        "AND b.process_id = a.process_id AND b.id < a.id AND b.status IN ('pending', 'failed')) "
        "ORDER BY a.not_before, a.id LIMIT $1 FOR UPDATE OF a SKIP LOCKED) "
        "UPDATE process_actions p SET not_before = now() + $2 * interval '1 millisecond', "
        "leased_until = now() + $2 * interval '1 millisecond' FROM due WHERE p.id = due.id "
        "RETURNING p.id, p.process_type, p.process_id, p.kind, p.key, p.name, p.payload_type, p.payload_version, "
        "p.payload, p.idempotency_key, p.limited, p.correlation_id, p.causation_id, p.attempts",
        static_cast<std::int64_t>(limit), static_cast<std::int64_t>(lease.count()), core::pg_array(types));
    for (const auto& row : rows) taken.push_back(to_action(row));
  });
  std::sort(taken.begin(), taken.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return taken;
}

void process_store::complete(const process_definition& process, const pending_action& action,
                             const action_result& result) {
  in_transaction([&](pqxx::transaction_base& tx) {
    const auto rows = tx.exec_params("SELECT status, cancel_requested FROM process_actions WHERE id = $1 FOR UPDATE",
                                     action.id);
    if (rows.empty() || rows[0][0].as<std::string>() != "pending") return;
    const bool cancelling = rows[0][1].as<bool>();
    if (cancelling && !std::holds_alternative<action_done>(result)) {
      tx.exec_params("UPDATE process_actions SET status = 'cancelled', leased_until = NULL, done_at = now() WHERE id = $1",
                     action.id);
      return;
    }
    record_result(tx, process, action, result);
  });
}

void process_store::record_result(pqxx::transaction_base& tx, const process_definition& process,
                                  const pending_action& action, const action_result& result) {
  const std::string type(process.type());
  const auto set_error = [&](const std::string& error, int attempts, bool stuck) {
    tx.exec_params(
        "UPDATE process_instances SET last_error = $3, attempts = $4, stuck = stuck OR $5, updated_at = now() "
        "WHERE process_type = $1 AND process_id = $2",
        type, action.process_id, action.key + ": " + error, attempts, stuck);
  };
  if (const auto* done = std::get_if<action_done>(&result)) {
    tx.exec_params(
        "UPDATE process_actions SET status = 'done', outcome = $2, leased_until = NULL, done_at = now() WHERE id = $1",
        action.id, done->result);
    tx.exec_params("UPDATE process_instances SET attempts = 0 WHERE process_type = $1 AND process_id = $2", type,
                   action.process_id);
    if (action.kind != "effect") return;
    const auto current = detail::lock_instance(tx, type, action.process_id);
    if (!current) return;
    const auto reacted = process.on_effect(*current, {action.key, action.name, action.payload, done->result});
    if (reacted) detail::store_reaction(tx, type, action.process_id, *reacted, action.correlation_id, action.causation_id);
    return;
  }
  if (const auto* refused = std::get_if<action_refused>(&result)) {
    tx.exec_params(
        "UPDATE process_actions SET status = 'refused', outcome = $2, leased_until = NULL, done_at = now() WHERE id = $1",
        action.id, refused->why);
    // A refused command is an answer the process sees in the events (or their absence); a refused
    // effect is a fault nobody will repair by waiting: the process stops for an operator.
    set_error("refused: " + refused->why, 0, action.kind == "effect");
    return;
  }
  if (const auto* parked = std::get_if<action_parked>(&result)) {
    tx.exec_params(
        "UPDATE process_actions SET not_before = now() + $2 * interval '1 millisecond', leased_until = NULL, "
        "last_error = $3 WHERE id = $1",
        action.id, static_cast<std::int64_t>(parked->retry_after.count()), "parked: " + parked->why);
    set_error("parked: " + parked->why, action.attempts, false);
    return;
  }
  const auto& transient = std::get<action_transient>(result);
  const int attempts = action.attempts + 1;
  if (action.limited && attempts >= retry_.max_attempts) {
    tx.exec_params(
        "UPDATE process_actions SET status = 'failed', attempts = $2, leased_until = NULL, last_error = $3 WHERE id = $1",
        action.id, attempts, transient.why);
    set_error("gave up after " + std::to_string(attempts) + " attempts: " + transient.why, attempts, true);
    return;
  }
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      backoff_.delay_before(static_cast<std::uint32_t>(std::min(attempts, 30)) + 1));
  tx.exec_params(
      "UPDATE process_actions SET attempts = $2, not_before = now() + $3 * interval '1 millisecond', "
      "leased_until = NULL, last_error = $4 WHERE id = $1",
      action.id, attempts, static_cast<std::int64_t>(delay.count()), transient.why);
  set_error(transient.why, attempts, false);
}

std::size_t process_store::prune_handled(const std::vector<std::string>& types, std::chrono::milliseconds retention,
                                         std::size_t limit) {
  std::vector<std::pair<std::string, std::string>> candidates;
  in_transaction([&](pqxx::transaction_base& tx) {
    candidates.clear();
    const auto rows = tx.exec_params(
        "SELECT process_type, process_id FROM process_instances WHERE finished AND handled_pruned_at IS NULL "
        "AND updated_at < now() - $2 * interval '1 millisecond' AND process_type = ANY($3::text[]) "
        "ORDER BY updated_at LIMIT $1",
        static_cast<std::int64_t>(limit), static_cast<std::int64_t>(retention.count()), core::pg_array(types));
    for (const auto& row : rows) candidates.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  });
  std::size_t pruned = 0;
  for (const auto& [type, id] : candidates) {
    if (prune_one(type, id, retention)) ++pruned;
  }
  return pruned;
}

// Under the instance's lock (skipped when another transaction holds it: a reaction makes it
// unfinished or newer, another pruner does the same work). A stream's rows are numbered in version
// order above what was folded before; those whose version is exactly that much above it form the
// gap-free run that is folded.
bool process_store::prune_one(const std::string& type, const std::string& process_id,
                              std::chrono::milliseconds retention) {
  bool pruned = false;
  in_transaction([&](pqxx::transaction_base& tx) {
    pruned = false;
    const auto locked = tx.exec_params(
        "SELECT 1 FROM process_instances WHERE process_type = $1 AND process_id = $2 AND finished "
        "AND handled_pruned_at IS NULL AND updated_at < now() - $3 * interval '1 millisecond' FOR UPDATE SKIP LOCKED",
        type, process_id, static_cast<std::int64_t>(retention.count()));
    if (locked.empty()) return;
    const auto runs = tx.exec_params(
        "WITH numbered AS (SELECT h.stream_id, h.stream_version, "
        "coalesce((i.handled_through ->> h.stream_id)::bigint, 0) AS base, "
        "row_number() OVER (PARTITION BY h.stream_id ORDER BY h.stream_version) AS n "
        "FROM process_handled h JOIN process_instances i ON i.process_type = h.process_type "
        "AND i.process_id = h.process_id WHERE h.process_type = $1 AND h.process_id = $2) "
        "SELECT stream_id, max(stream_version) FROM numbered WHERE stream_version = base + n GROUP BY stream_id",
        type, process_id);
    for (const auto& run : runs) {
      const auto stream = run[0].as<std::string>();
      const auto through = run[1].as<std::int64_t>();
      tx.exec_params(
          "DELETE FROM process_handled WHERE process_type = $1 AND process_id = $2 AND stream_id = $3 "
          "AND stream_version <= $4",
          type, process_id, stream, through);
      tx.exec_params(
          "UPDATE process_instances SET handled_through = handled_through || jsonb_build_object($3::text, $4::bigint) "
          "WHERE process_type = $1 AND process_id = $2",
          type, process_id, stream, through);
    }
    tx.exec_params(
        "UPDATE process_instances SET handled_pruned_at = now() WHERE process_type = $1 AND process_id = $2", type,
        process_id);
    pruned = true;
  });
  return pruned;
}

std::optional<std::chrono::milliseconds> process_store::next_due_in() {
  std::optional<std::chrono::milliseconds> next;
  in_transaction([&](pqxx::transaction_base& tx) {
    // NULL when nothing is pending (GREATEST(0, NULL) would be 0 in PostgreSQL, which ignores
    // NULLs there: the workers then polled every 20 ms with nothing to do); negative when overdue.
    const auto rows = tx.exec(
        "SELECT (EXTRACT(EPOCH FROM (LEAST("
        "(SELECT min(not_before) FROM process_actions WHERE status = 'pending'), "
        "(SELECT min(due_at) FROM process_deadlines)) - now())) * 1000)::bigint");
    next = rows[0][0].is_null()
               ? std::nullopt
               : std::optional(std::chrono::milliseconds{std::max<std::int64_t>(0, rows[0][0].as<std::int64_t>())});
  });
  return next;
}

}  // namespace cqrs::commands::processes
