#pragma once

// Versioned SQL migrations from schemas/migrations: files named NNNN_description.sql, applied in
// order, each in its own transaction, recorded in schema_migrations with a checksum. Applying is
// idempotent and safe to run from several processes at once (an advisory lock serialises them).

#include <filesystem>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace cqrs::core {

struct migration {
  int version = 0;
  std::string name;
  std::string sql;
};

struct migration_report {
  std::vector<int> applied;
  std::vector<int> already_applied;
};

// Reads every *.sql file of `dir`; throws std::runtime_error naming the file for a bad name,
// a duplicate version or an unreadable file.
std::vector<migration> load_migrations(const std::filesystem::path& dir);

// Applies what is missing. Throws if an applied migration's text has changed since: history
// that silently diverges between environments is worse than a failed start.
migration_report apply_migrations(pqxx::connection& connection, const std::vector<migration>& migrations);

// Where the migrations are when CQRS_MIGRATIONS_DIR is not set: the source tree's copy.
std::filesystem::path default_migrations_dir();

}  // namespace cqrs::core
