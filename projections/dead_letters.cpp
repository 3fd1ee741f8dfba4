#include "projections/dead_letters.hpp"

#include <pqxx/pqxx>

namespace cqrs::projections {

namespace {

constexpr const char* select_columns =
    "SELECT id, projection, stream_id, stream_version, log_position, event_type, error, attempts, status, "
    "recorded_at::text FROM projection_dead_letters ";

dead_letter to_letter(const pqxx::row& row) {
  return {row[0].as<std::int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::int64_t>(),
          row[4].as<std::string>(),  row[5].as<std::string>(), row[6].as<std::string>(), row[7].as<int>(),
          row[8].as<std::string>(),  row[9].as<std::string>()};
}

}  // namespace

dead_letter_store::dead_letter_store(std::string url) : connection_(std::move(url)) {}

void dead_letter_store::record(const std::string& projection, const core::recorded_event& event,
                               const std::string& error, int attempts) {
  pqxx::work tx(connection_.get());
  // A redelivered poison event updates its letter instead of adding another.
  tx.exec_params(
      "INSERT INTO projection_dead_letters (projection, stream_id, stream_version, log_position, event_type, error, "
      "attempts) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (projection, stream_id, stream_version) DO UPDATE "
      "SET error = EXCLUDED.error, attempts = projection_dead_letters.attempts + EXCLUDED.attempts",
      projection, event.stream.str(), event.version.value(), event.position.token(), event.type, error, attempts);
  tx.commit();
}

std::vector<dead_letter> dead_letter_store::list(const std::optional<std::string>& projection, bool open_only) {
  pqxx::work tx(connection_.get());
  const auto rows = tx.exec_params(std::string(select_columns) +
                                       "WHERE ($1::text IS NULL OR projection = $1::text) "
                                       "AND (NOT $2::boolean OR status = 'open') ORDER BY id",
                                   projection, open_only);
  std::vector<dead_letter> letters;
  for (const auto& row : rows) letters.push_back(to_letter(row));
  return letters;
}

std::optional<dead_letter> dead_letter_store::find(std::int64_t id) {
  pqxx::work tx(connection_.get());
  const auto rows = tx.exec_params(std::string(select_columns) + "WHERE id = $1", id);
  if (rows.empty()) return std::nullopt;
  return to_letter(rows[0]);
}

bool dead_letter_store::set_status(std::int64_t id, std::string_view status) {
  pqxx::work tx(connection_.get());
  const auto rows = tx.exec_params(
      "UPDATE projection_dead_letters SET status = $2, resolved_at = now() WHERE id = $1 AND status = 'open' "
      "RETURNING id",
      id, std::string(status));
  tx.commit();
  return !rows.empty();
}

bool dead_letter_store::discard(std::int64_t id) { return set_status(id, "discarded"); }

retry_outcome dead_letter_store::retry(std::int64_t id, projection_target& target, core::event_store& store,
                                       std::string& error) {
  const auto letter = find(id);
  if (!letter) return retry_outcome::not_found;
  if (letter->status != "open") return retry_outcome::not_open;
  const auto stream = core::stream_id::trusted(letter->stream_id);
  const auto events = detail::missing_events(store, stream, core::stream_version{letter->stream_version},
                                             core::stream_version{letter->stream_version + 1});
  try {
    target.force_apply(events.front());
  } catch (const handler_error& e) {
    error = e.what();
    return retry_outcome::still_failing;
  }
  // Not atomic with the target's change: a crash here leaves the letter open. A second retry is
  // then a no-op: force_apply records each forced event with its change (in the Redis script, or
  // in projection_forced_events within the PostgreSQL transaction).
  set_status(id, "retried");
  return retry_outcome::applied;
}

}  // namespace cqrs::projections
