#pragma once

// Shared by the pg suite's security tests: key store databases of their own, next to the event
// store's database on the private stack's server (never inside it), and key files.

#include <string>
#include <string_view>

namespace cqrs::tests {

// The URL of database `name` on CQRS_PG_URL's server, created if it does not exist.
std::string database_beside_event_store(std::string_view name);

// The key store database shared by the security tests: "cqrs_keys".
std::string keystore_url();

}  // namespace cqrs::tests
