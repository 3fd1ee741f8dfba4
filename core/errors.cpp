#include "core/errors.hpp"

#include <cstdlib>

#include <pqxx/except>

namespace cqrs::core {

std::string_view to_string(errc code) {
  // No default: a new code must be named here, or the build fails (-Wswitch -Werror).
  switch (code) {
    case errc::version_conflict: return "version_conflict";
    case errc::invalid_stream_id: return "invalid_stream_id";
    case errc::invalid_category: return "invalid_category";
    case errc::empty_event_list: return "empty_event_list";
    case errc::too_many_events: return "too_many_events";
    case errc::invalid_event_type: return "invalid_event_type";
    case errc::invalid_schema_version: return "invalid_schema_version";
    case errc::invalid_event_id: return "invalid_event_id";
    case errc::payload_too_large: return "payload_too_large";
    case errc::append_too_large: return "append_too_large";
    case errc::invalid_metadata: return "invalid_metadata";
    case errc::invalid_expected_version: return "invalid_expected_version";
    case errc::invalid_log_position: return "invalid_log_position";
    case errc::invalid_batch_size: return "invalid_batch_size";
    case errc::invalid_idempotency_key: return "invalid_idempotency_key";
    case errc::duplicate_event_id: return "duplicate_event_id";
    case errc::duplicate_idempotency_key: return "duplicate_idempotency_key";
  }
  std::abort();
}

std::string_view to_string(failure_kind kind) {
  switch (kind) {
    case failure_kind::connection: return "connection";
    case failure_kind::in_doubt: return "in_doubt";
    case failure_kind::transient: return "transient";
    case failure_kind::statement: return "statement";
    case failure_kind::unexpected: return "unexpected";
  }
  std::abort();
}

bool is_retryable(failure_kind kind) {
  switch (kind) {
    case failure_kind::connection: return true;
    case failure_kind::transient: return true;
    case failure_kind::in_doubt: return false;
    case failure_kind::statement: return false;
    case failure_kind::unexpected: return false;
  }
  std::abort();
}

store_error::store_error(failure_kind kind, const std::string& message, std::string sqlstate, std::string query)
    : std::runtime_error(message), kind_(kind), sqlstate_(std::move(sqlstate)), query_(std::move(query)) {}

namespace detail {

namespace {

// A lost connection is harmless unless the work commits as it completes: then the commit may
// have happened just before the reply was lost.
store_error lost_connection(const pqxx::broken_connection& e, statement_effect effect) {
  const auto kind = effect == statement_effect::may_have_committed ? failure_kind::in_doubt : failure_kind::connection;
  return store_error(kind, e.what(), "08006");
}

// An ERROR reply means the statement failed and its transaction rolled back. A session ended by
// the server (class 08, 57P01-57P03) is different: the backend may be terminated after its commit
// but before it said so, so for work that commits as it completes the outcome is unknown.
store_error failed_statement(const pqxx::sql_error& e, statement_effect effect) {
  const std::string& state = e.sqlstate();
  const bool session_gone = state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
  const bool transient = state == "40001" || state == "40P01";
  auto kind = transient ? failure_kind::transient : failure_kind::statement;
  if (session_gone) kind = effect == statement_effect::may_have_committed ? failure_kind::in_doubt : failure_kind::connection;
  return store_error(kind, e.what(), state, e.query());
}

}  // namespace

store_error to_store_error(const std::exception_ptr& failure, statement_effect effect) {
  // Order matters: derived libpqxx classes before their bases.
  try {
    std::rethrow_exception(failure);
  } catch (const store_error& e) {
    return e;
  } catch (const pqxx::in_doubt_error& e) {
    return store_error(failure_kind::in_doubt, e.what());
  } catch (const pqxx::statement_completion_unknown& e) {
    return store_error(failure_kind::in_doubt, e.what(), "40003");
  } catch (const pqxx::serialization_failure& e) {
    return store_error(failure_kind::transient, e.what(), "40001");
  } catch (const pqxx::deadlock_detected& e) {
    return store_error(failure_kind::transient, e.what(), "40P01");
  } catch (const pqxx::transaction_rollback& e) {
    return store_error(failure_kind::statement, e.what(), "40000");
  } catch (const pqxx::broken_connection& e) {
    return lost_connection(e, effect);
  } catch (const pqxx::sql_error& e) {
    return failed_statement(e, effect);
  } catch (const pqxx::failure& e) {
    // libpq reported a failure without SQLSTATE: we cannot tell whether anything was sent.
    const auto kind = effect == statement_effect::may_have_committed ? failure_kind::in_doubt : failure_kind::unexpected;
    return store_error(kind, e.what());
  } catch (const pqxx::pqxx_exception& e) {
    return store_error(failure_kind::unexpected, e.base().what());
  }
  std::abort();  // unreachable: rethrow_exception always throws
}

}  // namespace detail

}  // namespace cqrs::core
