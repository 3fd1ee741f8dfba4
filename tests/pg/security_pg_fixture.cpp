#include "tests/pg/security_pg_fixture.hpp"

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include "tests/support/stack.hpp"

namespace cqrs::tests {

std::string database_beside_event_store(std::string_view name) {
  const auto events = pg_url();
  pqxx::connection connection(events);
  try {
    pqxx::nontransaction tx(connection);  // CREATE DATABASE refuses to run inside a transaction
    tx.exec("CREATE DATABASE " + tx.quote_name(std::string(name)));
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() != "42P04") throw;  // duplicate_database: made by an earlier test
  }
  return with_database(events, std::string(name));
}

std::string keystore_url() {
  static const std::string url = database_beside_event_store("cqrs_keys");
  return url;
}

}  // namespace cqrs::tests
