#include "core/security/pg_key_store.hpp"

#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

namespace cqrs::core::security {

namespace {

// Any constant, the same in every process: serialises the CREATE TABLE of processes starting together
// (CREATE TABLE IF NOT EXISTS alone can fail on the catalog's unique index when two race).
constexpr long long create_lock = 0x63717273'6b657973;  // "cqrskeys"

// `wrapped` is NULL once destroyed; `destroyed_at` marks the tombstone.
constexpr const char* create_table = R"(
CREATE TABLE IF NOT EXISTS pii_data_keys (
  subject      text PRIMARY KEY,
  key_id       text NOT NULL,
  wrapped      text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz,
  destroyed_at timestamptz,
  CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
))";

void prepare(pqxx::connection_base& c) {
  {
    pqxx::work tx(c);
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", create_lock);
    tx.exec(create_table);
    tx.commit();
  }
  c.prepare("keys_insert",
            "INSERT INTO pii_data_keys (subject, key_id, wrapped) VALUES ($1, $2, $3) ON CONFLICT (subject) DO NOTHING");
  c.prepare("keys_load", "SELECT key_id, wrapped FROM pii_data_keys WHERE subject = $1");
  // Destroying overwrites the wrapped key in place; the old row version stays in the table's pages
  // until vacuum reuses them and in the WAL until it is recycled (docs/security.md).
  c.prepare("keys_destroy",
            "INSERT INTO pii_data_keys (subject, key_id, wrapped, destroyed_at) VALUES ($1, '', NULL, now()) "
            "ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, "
            "destroyed_at = coalesce(pii_data_keys.destroyed_at, now())");
  c.prepare("keys_list",
            "SELECT subject, key_id, wrapped FROM pii_data_keys WHERE subject > $1 AND wrapped IS NOT NULL "
            "ORDER BY subject LIMIT $2");
  c.prepare("keys_rewrap",
            "UPDATE pii_data_keys SET wrapped = $3, rewrapped_at = now() WHERE subject = $1 AND wrapped = $2");
}

}  // namespace

pg_key_store::pg_key_store(std::string url) : connection_(std::move(url), prepare) {}

std::optional<stored_key> pg_key_store::load_locked(std::string_view subject) {
  std::optional<stored_key> found;
  connection_.run(statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("keys_load", std::string(subject));
    found.reset();
    if (rows.empty()) return;
    if (rows[0][1].is_null()) {
      found = key_destroyed{};
    } else {
      found = wrapped_key{std::string(subject), rows[0][0].as<std::string>(), rows[0][1].as<std::string>()};
    }
  });
  return found;
}

// Two statements, each with its own snapshot: after an insert that met another creator's row, the
// second statement sees that row committed (READ COMMITTED), so both creators return the same key.
// Retrying is safe: an insert that did commit makes the retry's insert a no-op.
stored_key pg_key_store::create(const wrapped_key& candidate) {
  const std::lock_guard lock(mutex_);
  connection_.run(statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    tx.exec_prepared("keys_insert", candidate.subject, candidate.key_id, candidate.wrapped);
  });
  auto stored = load_locked(candidate.subject);
  if (!stored) throw store_error(failure_kind::unexpected, "a data key row vanished right after its creation");
  return std::move(*stored);
}

std::optional<stored_key> pg_key_store::load(std::string_view subject) {
  const std::lock_guard lock(mutex_);
  return load_locked(subject);
}

void pg_key_store::destroy(std::string_view subject) {
  const std::lock_guard lock(mutex_);
  // Idempotent, so safe to run again even when a commit's outcome was unknown.
  connection_.run(statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    tx.exec_prepared("keys_destroy", std::string(subject));
  });
}

std::vector<wrapped_key> pg_key_store::list_after(std::string_view after, std::size_t limit) {
  const std::lock_guard lock(mutex_);
  std::vector<wrapped_key> keys;
  connection_.run(statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("keys_list", std::string(after), static_cast<long long>(limit));
    keys.clear();
    for (const auto& row : rows) {
      keys.push_back(wrapped_key{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    }
  });
  return keys;
}

bool pg_key_store::rewrap(std::string_view subject, std::string_view old_wrapped, std::string_view new_wrapped) {
  const std::lock_guard lock(mutex_);
  bool replaced = false;
  // Not retried blindly: a lost reply may hide a committed update (in doubt); the rotation then
  // reloads the row and sees which wrapping it holds.
  connection_.run(statement_effect::may_have_committed, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    const auto done = tx.exec_prepared("keys_rewrap", std::string(subject), std::string(old_wrapped),
                                       std::string(new_wrapped));
    replaced = done.affected_rows() == 1;
  });
  return replaced;
}

}  // namespace cqrs::core::security
