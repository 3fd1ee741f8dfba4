#pragma once

// One PostgreSQL connection for one thread at a time (libpqxx's rule: a connection and everything
// opened on it belong to one thread; share nothing, open one per thread). It connects lazily,
// prepares its owner's statements on every new connection, drops a connection after a failure
// that may have broken it, and runs work under the retry judgement of core/errors.hpp.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/errors.hpp"

namespace pqxx {
class connection_base;
}

namespace cqrs::core {

struct retry_policy {
  int max_attempts = 3;
  std::chrono::milliseconds first_backoff{2};  // doubled after each failed attempt
};

// Runs `attempt` until it returns, again only after a retryable failure (core/errors.hpp) and at
// most policy.max_attempts times in all. libpqxx exceptions leave as store_error; other exceptions
// pass through untouched. `after_failure` sees each failure before the decision (to drop a
// connection, say).
void run_with_retries(const retry_policy& policy, statement_effect effect, const std::function<void()>& attempt,
                      const std::function<void(const store_error&)>& after_failure = {});

class pg_connection {
 public:
  using preparer = std::function<void(pqxx::connection_base&)>;
  using work = std::function<void(pqxx::connection_base&)>;

  explicit pg_connection(std::string url, preparer prepare = {}, retry_policy retry = {});
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  // The open connection, connecting first if needed (never replacing one that is open: a session
  // the server closed shows as the failure of the next statement). Throws store_error.
  pqxx::connection_base& get();

  // Runs `w` on the connection, retrying what is safe for `effect` (see run_with_retries). A
  // connection the server closed while idle is replaced first, so that a write is never sent on
  // it (and reported in doubt): `w` must not depend on the session (locks, LISTEN) it runs in.
  void run(statement_effect effect, const work& w);

  // Whether a connection exists and is usable, without connecting.
  bool is_open() const noexcept;

  // Forgets the connection; the next get() opens a new one.
  void reset() noexcept;

  const std::string& url() const { return url_; }

 private:
  using connection_ptr = std::unique_ptr<pqxx::connection_base, void (*)(pqxx::connection_base*)>;

  std::string url_;
  preparer prepare_;
  retry_policy retry_;
  connection_ptr connection_;
};

}  // namespace cqrs::core
