#include <doctest/doctest.h>

#include <stdexcept>

#include <pqxx/except>

#include "core/errors.hpp"
#include "core/pg_connection.hpp"

using namespace cqrs::core;

namespace {

const retry_policy quick{3, std::chrono::milliseconds(0)};

// Runs work that always throws `failure`; returns how often it ran and what left.
template <typename Failure>
std::pair<int, store_error> attempts_until_given_up(const Failure& failure, statement_effect effect) {
  int attempts = 0;
  try {
    run_with_retries(quick, effect, [&] {
      ++attempts;
      throw failure;
    });
  } catch (const store_error& e) {
    return {attempts, e};
  }
  FAIL("no store_error left run_with_retries");
  return {attempts, store_error(failure_kind::unexpected, "")};
}

}  // namespace

TEST_CASE("a commit whose outcome is unknown is never retried") {
  const auto [attempts, e] = attempts_until_given_up(pqxx::in_doubt_error("commit outcome unknown"),
                                                     statement_effect::none_on_failure);
  CHECK(attempts == 1);
  CHECK(e.kind() == failure_kind::in_doubt);
  CHECK_FALSE(e.retryable());
}

TEST_CASE("a lost connection during an autocommit write is in doubt and not retried") {
  const auto [attempts, e] = attempts_until_given_up(pqxx::broken_connection("server closed the connection"),
                                                     statement_effect::may_have_committed);
  CHECK(attempts == 1);
  CHECK(e.kind() == failure_kind::in_doubt);
}

TEST_CASE("a server ending the session during an autocommit write is in doubt too") {
  const auto [attempts, e] = attempts_until_given_up(
      pqxx::sql_error("terminating connection due to administrator command", "cqrs_append", "57P01"),
      statement_effect::may_have_committed);
  CHECK(attempts == 1);
  CHECK(e.kind() == failure_kind::in_doubt);
  CHECK(e.sqlstate() == "57P01");
}

TEST_CASE("a lost connection where nothing can have committed is retried") {
  const auto [attempts, e] = attempts_until_given_up(pqxx::broken_connection("gone"), statement_effect::none_on_failure);
  CHECK(attempts == 3);
  CHECK(e.kind() == failure_kind::connection);
  CHECK(e.retryable());
}

TEST_CASE("serialization failures and deadlocks are retried; they carry their SQLSTATE") {
  const auto [serial_attempts, serial] = attempts_until_given_up(pqxx::serialization_failure("could not serialize"),
                                                                 statement_effect::may_have_committed);
  CHECK(serial_attempts == 3);
  CHECK(serial.kind() == failure_kind::transient);
  CHECK(serial.sqlstate() == "40001");
  const auto [deadlock_attempts, deadlock] = attempts_until_given_up(pqxx::deadlock_detected("deadlock detected"),
                                                                     statement_effect::none_on_failure);
  CHECK(deadlock_attempts == 3);
  CHECK(deadlock.sqlstate() == "40P01");
}

TEST_CASE("a failed statement is not retried and keeps its SQLSTATE and query") {
  const auto [attempts, e] = attempts_until_given_up(
      pqxx::unique_violation("duplicate key value violates unique constraint", "cqrs_append", "23505"),
      statement_effect::may_have_committed);
  CHECK(attempts == 1);
  CHECK(e.kind() == failure_kind::statement);
  CHECK(e.sqlstate() == "23505");
  CHECK(e.query() == "cqrs_append");
}

TEST_CASE("work succeeds after a transient failure, and foreign exceptions pass through untouched") {
  int attempts = 0;
  run_with_retries(quick, statement_effect::none_on_failure, [&] {
    if (++attempts == 1) throw pqxx::deadlock_detected("deadlock detected");
  });
  CHECK(attempts == 2);

  attempts = 0;
  CHECK_THROWS_AS(run_with_retries(quick, statement_effect::none_on_failure,
                                   [&] {
                                     ++attempts;
                                     throw std::out_of_range("caller's own");
                                   }),
                  std::out_of_range);
  CHECK(attempts == 1);
}

TEST_CASE("only connection and transient failures are retryable") {
  CHECK(is_retryable(failure_kind::connection));
  CHECK(is_retryable(failure_kind::transient));
  CHECK_FALSE(is_retryable(failure_kind::in_doubt));
  CHECK_FALSE(is_retryable(failure_kind::statement));
  CHECK_FALSE(is_retryable(failure_kind::unexpected));
}

TEST_CASE("every error code has a distinct name") {
  CHECK(to_string(errc::version_conflict) == "version_conflict");
  CHECK(to_string(errc::duplicate_idempotency_key) == "duplicate_idempotency_key");
  CHECK(to_string(failure_kind::in_doubt) == "in_doubt");
}

TEST_CASE("a result holds a value or an error, and reading the wrong side is a logic error") {
  result<int> good = 5;
  result<int> bad = make_error(errc::invalid_stream_id, "no");
  CHECK(good.ok());
  CHECK(good.value() == 5);
  CHECK_THROWS_AS((void)good.error(), std::logic_error);
  CHECK_FALSE(bad.ok());
  CHECK(bad.code() == errc::invalid_stream_id);
  CHECK_THROWS_AS((void)bad.value(), std::logic_error);
}
