#include "commands/user/user_lookup.hpp"

#include <string>

#include <pqxx/pqxx>

#include "commands/user/user_aggregate.hpp"

namespace cqrs::commands::user {

std::optional<core::stream_id> user_with_email(core::event_store& store, const schemas::blind_index& index) {
  std::optional<std::string> holder;
  store.connection().run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& connection) {
    pqxx::read_transaction tx(connection);
    const auto rows = tx.exec_params("SELECT stream_id FROM unique_claims WHERE scope = $1 AND value = $2",
                                     std::string(email_claim_scope), index.value());
    holder = rows.empty() ? std::nullopt : std::optional<std::string>(rows[0][0].as<std::string>());
  });
  if (!holder) return std::nullopt;
  // Only the pipeline writes this scope, always with a user stream id.
  return core::stream_id::parse(*holder).value();
}

std::string user_created_at(core::event_store& store, const core::stream_id& user) {
  std::string at;
  store.connection().run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& connection) {
    pqxx::read_transaction tx(connection);
    const auto rows = tx.exec_params(
        "SELECT to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM events "
        "WHERE stream_id = $1 AND stream_version = 1",
        user.str());
    at = rows.empty() ? std::string() : rows[0][0].as<std::string>();
  });
  return at;
}

}  // namespace cqrs::commands::user
