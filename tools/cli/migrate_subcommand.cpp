#include <pqxx/connection>

#include "core/log.hpp"
#include "core/migrations.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

int run_migrate(const core::settings_source& source) {
  const auto url = source.url("CQRS_PG_URL", "", {"postgresql", "postgres"});
  const auto dir = source.text("CQRS_MIGRATIONS_DIR", core::default_migrations_dir().string());
  const core::logger log("migrate", source.level("CQRS_LOG_LEVEL", core::log_level::info));
  const auto migrations = core::load_migrations(dir);
  pqxx::connection connection(url);
  const auto report = core::apply_migrations(connection, migrations);
  for (int version : report.applied) log.info("applied migration", {{"version", version}});
  log.info("schema up to date",
           {{"applied", report.applied.size()}, {"already_applied", report.already_applied.size()}, {"dir", dir}});
  return 0;
}

}  // namespace

subcommand migrate_subcommand() {
  return {"migrate",
          "apply the SQL migrations in schemas/migrations that the database lacks",
          {{"CQRS_PG_URL", "", "PostgreSQL connection URL"},
           {"CQRS_MIGRATIONS_DIR", core::default_migrations_dir().string(), "directory of NNNN_name.sql files"},
           {"CQRS_LOG_LEVEL", "info", "debug, info, warn or error"}},
          run_migrate};
}

}  // namespace cqrs::tools::cli
