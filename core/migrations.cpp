#include "core/migrations.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

namespace cqrs::core {

namespace {

// Any fixed number: identifies "the migration lock" among the engine's advisory locks.
constexpr long long migration_lock_key = 0x6371727301;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read migration {}", path.string()));
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

migration parse_migration(const std::filesystem::path& path) {
  static const std::regex pattern(R"(^(\d{4})_([a-z0-9_]+)\.sql$)");
  std::smatch match;
  const auto file = path.filename().string();
  if (!std::regex_match(file, match, pattern)) {
    throw std::runtime_error(fmt::format("migration file {} is not named NNNN_description.sql", path.string()));
  }
  return migration{std::stoi(match[1].str()), match[2].str(), read_file(path)};
}

void ensure_table(pqxx::connection& connection) {
  pqxx::work tx(connection);
  tx.exec0(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
      " applied_at timestamptz NOT NULL DEFAULT now())");
  tx.commit();
}

// The checksum recorded for `m`, or an empty string when it has not been applied.
std::string recorded_checksum(pqxx::connection& connection, const migration& m) {
  pqxx::read_transaction tx(connection);
  const auto rows = tx.exec_params("SELECT checksum FROM schema_migrations WHERE version = $1", m.version);
  return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
}

void apply_one(pqxx::connection& connection, const migration& m) {
  pqxx::work tx(connection);
  tx.exec0(m.sql);
  tx.exec_params0("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))", m.version,
                  m.name, m.sql);
  tx.commit();
}

std::string checksum_of(pqxx::connection& connection, const migration& m) {
  pqxx::read_transaction tx(connection);
  return tx.exec_params1("SELECT md5($1)", m.sql)[0].as<std::string>();
}

class advisory_lock {
 public:
  explicit advisory_lock(pqxx::connection& connection) : connection_(connection) {
    pqxx::nontransaction(connection_).exec_params("SELECT pg_advisory_lock($1)", migration_lock_key);
  }
  ~advisory_lock() {
    try {
      pqxx::nontransaction(connection_).exec_params("SELECT pg_advisory_unlock($1)", migration_lock_key);
    } catch (...) {
      // The lock dies with the session anyway; a destructor must not throw.
    }
  }
  advisory_lock(const advisory_lock&) = delete;
  advisory_lock& operator=(const advisory_lock&) = delete;

 private:
  pqxx::connection& connection_;
};

}  // namespace

std::vector<migration> load_migrations(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw std::runtime_error(fmt::format("migrations directory {} does not exist", dir.string()));
  }
  std::vector<migration> migrations;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".sql") migrations.push_back(parse_migration(entry.path()));
  }
  std::sort(migrations.begin(), migrations.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  const auto duplicate = std::adjacent_find(migrations.begin(), migrations.end(),
                                            [](const auto& a, const auto& b) { return a.version == b.version; });
  if (duplicate != migrations.end()) {
    throw std::runtime_error(fmt::format("two migrations share version {:04}", duplicate->version));
  }
  return migrations;
}

migration_report apply_migrations(pqxx::connection& connection, const std::vector<migration>& migrations) {
  advisory_lock lock(connection);
  ensure_table(connection);
  migration_report report;
  for (const auto& m : migrations) {
    const auto recorded = recorded_checksum(connection, m);
    if (recorded.empty()) {
      apply_one(connection, m);
      report.applied.push_back(m.version);
    } else if (recorded != checksum_of(connection, m)) {
      throw std::runtime_error(
          fmt::format("migration {:04}_{} was changed after it was applied: add a new migration instead", m.version,
                      m.name));
    } else {
      report.already_applied.push_back(m.version);
    }
  }
  return report;
}

std::filesystem::path default_migrations_dir() { return std::filesystem::path(CQRS_SOURCE_ROOT) / "schemas" / "migrations"; }

}  // namespace cqrs::core
