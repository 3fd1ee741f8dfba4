#include <doctest/doctest.h>

#include <latch>
#include <thread>
#include <variant>
#include <vector>

#include "core/security/refresh_token.hpp"
#include "tests/support/pg_helpers.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs::core::security;
using namespace std::chrono_literals;
using cqrs::tests::pg_url;
using cqrs::tests::run_id;

namespace {

std::string subject(std::string_view name) { return "tokens_" + run_id() + "_" + std::string(name); }

refresh_refusal refused(const rotation_outcome& outcome) {
  REQUIRE(std::holds_alternative<refresh_refusal>(outcome));
  return std::get<refresh_refusal>(outcome);
}

issued_token rotated(const rotation_outcome& outcome) {
  REQUIRE(std::holds_alternative<issued_token>(outcome));
  return std::get<issued_token>(outcome);
}

}  // namespace

TEST_CASE("a refresh token rotates into a successor of the same family, once") {
  pg_refresh_tokens tokens(pg_url());
  const auto first = tokens.issue(subject("alice"), 3600s);
  CHECK(first.token.size() == 43);
  const auto second = rotated(tokens.rotate(first.token, 3600s));
  CHECK(second.token != first.token);
  CHECK(second.family == first.family);
  CHECK(second.subject == first.subject);
  const auto third = rotated(tokens.rotate(second.token, 3600s));
  CHECK(third.family == first.family);
}

TEST_CASE("presenting a used token again revokes its whole family (RFC 9700 4.14.2)") {
  pg_refresh_tokens tokens(pg_url());
  const auto first = tokens.issue(subject("stolen"), 3600s);
  const auto second = rotated(tokens.rotate(first.token, 3600s));
  CHECK(refused(tokens.rotate(first.token, 3600s)) == refresh_refusal::reused);
  CHECK(refused(tokens.rotate(second.token, 3600s)) == refresh_refusal::revoked);  // the successor died with it
  CHECK(refused(tokens.rotate(first.token, 3600s)) == refresh_refusal::revoked);
  // Another family of the same subject (another device) lives on.
  const auto other = tokens.issue(first.subject, 3600s);
  CHECK(rotated(tokens.rotate(other.token, 3600s)).family == other.family);
}

TEST_CASE("two rotations of one token at once: one succeeds, the other is a reuse that revokes the family") {
  for (int round = 0; round < 5; ++round) {
    pg_refresh_tokens issuer(pg_url());
    const auto first = issuer.issue(subject("race"), 3600s);
    pg_refresh_tokens a(pg_url());
    pg_refresh_tokens b(pg_url());
    std::latch start(2);
    std::vector<rotation_outcome> outcomes(2, refresh_refusal::unknown);
    {
      std::jthread ta([&] {
        start.arrive_and_wait();
        outcomes[0] = a.rotate(first.token, 3600s);
      });
      std::jthread tb([&] {
        start.arrive_and_wait();
        outcomes[1] = b.rotate(first.token, 3600s);
      });
    }
    const int winners = std::holds_alternative<issued_token>(outcomes[0]) + std::holds_alternative<issued_token>(outcomes[1]);
    CHECK(winners == 1);
    const auto& loser = std::holds_alternative<issued_token>(outcomes[0]) ? outcomes[1] : outcomes[0];
    CHECK(refused(loser) == refresh_refusal::reused);
    const auto& winner = std::holds_alternative<issued_token>(outcomes[0]) ? outcomes[0] : outcomes[1];
    CHECK(refused(issuer.rotate(std::get<issued_token>(winner).token, 3600s)) == refresh_refusal::revoked);
  }
}

TEST_CASE("unknown, malformed and expired tokens are refused as such") {
  pg_refresh_tokens tokens(pg_url());
  CHECK(refused(tokens.rotate(generate_refresh_token().token, 3600s)) == refresh_refusal::unknown);
  CHECK(refused(tokens.rotate("not a token", 3600s)) == refresh_refusal::unknown);
  CHECK(refused(tokens.rotate("", 3600s)) == refresh_refusal::unknown);
  const auto expired = tokens.issue(subject("late"), 0s);
  CHECK(refused(tokens.rotate(expired.token, 3600s)) == refresh_refusal::expired);
}

TEST_CASE("revoking a subject (logout everywhere, forgetting) ends all its families") {
  pg_refresh_tokens tokens(pg_url());
  const auto who = subject("leaving");
  const auto phone = tokens.issue(who, 3600s);
  const auto laptop = tokens.issue(who, 3600s);
  const auto someone_else = tokens.issue(subject("staying"), 3600s);
  CHECK(tokens.revoke_subject(who) == 2);
  CHECK(refused(tokens.rotate(phone.token, 3600s)) == refresh_refusal::revoked);
  CHECK(refused(tokens.rotate(laptop.token, 3600s)) == refresh_refusal::revoked);
  CHECK(std::holds_alternative<issued_token>(tokens.rotate(someone_else.token, 3600s)));
  CHECK(tokens.revoke_subject(who) == 0);
  const auto family = tokens.issue(who, 3600s);
  CHECK(tokens.revoke_family(family.family) == 1);
  CHECK(refused(tokens.rotate(family.token, 3600s)) == refresh_refusal::revoked);
}
