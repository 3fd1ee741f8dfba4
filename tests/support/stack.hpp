#pragma once

// Settings of the private test stack started by tools/test. A suite that needs a service and
// does not find its setting fails loudly: a test that silently skips would prove nothing.

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace cqrs::tests {

inline std::string stack_setting(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) + " is not set: run the suites through tools/test");
  }
  return value;
}

inline std::string pg_url() { return stack_setting("CQRS_PG_URL"); }
inline std::string redis_url() { return stack_setting("CQRS_REDIS_URL"); }
inline std::string kafka_bootstrap() { return stack_setting("CQRS_KAFKA_BOOTSTRAP"); }

// `url` with one more query parameter ("application_name=x"): the stack's URL already has a query
// (sslmode=verify-full&sslrootcert=...).
inline std::string with_url_parameter(const std::string& url, const std::string& parameter) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + parameter;
}

// `url` naming another database on the same server, its query (TLS settings) kept.
inline std::string with_database(const std::string& url, const std::string& database) {
  const auto query = std::min(url.find('?'), url.size());
  const auto slash = url.rfind('/', query);
  return url.substr(0, slash + 1) + database + url.substr(query);
}

}  // namespace cqrs::tests
