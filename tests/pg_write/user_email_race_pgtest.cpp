// E-mail uniqueness across users: the blind index is claimed in the transaction of
// user.registered (and user.email_changed), so of concurrent registrations of one address exactly
// one commits; the claim moves with a change of address and is released when the user is
// forgotten, after which the address can be registered again.

#include <doctest/doctest.h>

#include <algorithm>

#include <pqxx/pqxx>

#include "commands/user/user_lookup.hpp"
#include "tests/pg_write/user_fixture.hpp"
#include "tests/pg_write/write_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using namespace cqrs::tests;
using namespace cqrs::tests::write;
using commands::user::errc;
using commands::user::user_envelope;
using commands::user::user_pipeline;

namespace {

std::vector<std::string> holders_of(const schemas::blind_index& index) {
  pqxx::connection connection(pg_url());
  pqxx::read_transaction tx(connection);
  std::vector<std::string> holders;
  for (const auto& row : tx.exec_params("SELECT stream_id FROM unique_claims WHERE scope = 'user.email' AND value = $1",
                                        index.value())) {
    holders.push_back(row[0].as<std::string>());
  }
  return holders;
}

}  // namespace

TEST_CASE("16 concurrent registrations of one address on 16 users: exactly one succeeds, 15 are email_already_taken") {
  auto store = make_store();
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    const auto index = unique_index("race" + std::to_string(round));
    std::vector<user_envelope> commands;
    for (int i = 0; i < 16; ++i) {
      commands.push_back({user_stream("race" + std::to_string(round) + "_" + std::to_string(i)), new_user(index),
                          as("signup")});
    }
    const auto outcomes = run_concurrently(pg_url(), commands);
    const auto winners = std::ranges::count_if(outcomes, is_accepted);
    CHECK(winners == 1);
    const auto taken = std::ranges::count_if(outcomes, [](const auto& o) { return refused_with(o, errc::email_already_taken); });
    CHECK(taken == 15);
    // Only the winner's stream exists, and it holds the claim.
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      const bool won = is_accepted(outcomes[i]);
      CHECK(store->current_version(commands[i].target) == core::stream_version{won ? 1 : 0});
      if (won) CHECK(holders_of(index) == std::vector<std::string>{commands[i].target.str()});
    }
  }
}

TEST_CASE("changing the e-mail moves the claim: the old address is free, the new one taken") {
  auto store = make_store();
  user_pipeline pipeline(*store);
  const auto old_index = unique_index("move-old");
  const auto new_index = unique_index("move-new");
  const auto alice = user_stream("move-alice");
  REQUIRE(is_accepted(pipeline.handle({alice, new_user(old_index), as("alice")})));
  REQUIRE(is_accepted(pipeline.handle({alice, schemas::change_user_email{schemas::sealed_text("v1:bmV3"), new_index}, as("alice")})));
  CHECK(holders_of(old_index).empty());
  CHECK(holders_of(new_index) == std::vector<std::string>{alice.str()});
  CHECK(refused_with(pipeline.handle({user_stream("move-bob"), new_user(new_index), as("bob")}), errc::email_already_taken));
  CHECK(is_accepted(pipeline.handle({user_stream("move-carol"), new_user(old_index), as("carol")})));
}

TEST_CASE("changing to an address another user holds is refused and leaves the user's own claim in place") {
  auto store = make_store();
  user_pipeline pipeline(*store);
  const auto mine = unique_index("keep-mine");
  const auto theirs = unique_index("keep-theirs");
  const auto alice = user_stream("keep-alice");
  REQUIRE(is_accepted(pipeline.handle({alice, new_user(mine), as("alice")})));
  REQUIRE(is_accepted(pipeline.handle({user_stream("keep-bob"), new_user(theirs), as("bob")})));
  CHECK(refused_with(pipeline.handle({alice, schemas::change_user_email{schemas::sealed_text("v1:eA=="), theirs}, as("alice")}),
                     errc::email_already_taken));
  CHECK(holders_of(mine) == std::vector<std::string>{alice.str()});
  CHECK(store->current_version(alice) == core::stream_version{1});
}

TEST_CASE("forgetting releases the address: it can be registered again, by another user") {
  auto store = make_store();
  user_pipeline pipeline(*store);
  const auto index = unique_index("forget");
  const auto alice = user_stream("forget-alice");
  REQUIRE(is_accepted(pipeline.handle({alice, new_user(index), as("alice")})));
  CHECK(refused_with(pipeline.handle({user_stream("forget-early"), new_user(index), as("x")}), errc::email_already_taken));
  const auto forgotten = pipeline.handle({alice, schemas::forget_user{"on request"}, as("alice")});
  REQUIRE(is_accepted(forgotten));
  CHECK(holders_of(index).empty());
  CHECK(count_of(whole_stream(*store, alice), "user.forgotten") == 1);
  CHECK(is_accepted(pipeline.handle({user_stream("forget-again"), new_user(index), as("bob")})));
  // The forgotten user accepts nothing more, not even a registration of its own id.
  CHECK(refused_with(pipeline.handle({alice, new_user(unique_index("forget-other")), as("alice")}), errc::user_forgotten));
  CHECK(refused_with(pipeline.handle({alice, schemas::grant_user_role{schemas::user_role("support")}, as("admin")}),
                     errc::user_forgotten));
}

TEST_CASE("concurrent registrations of one address racing a release of it: never two holders") {
  auto store = make_store();
  user_pipeline pipeline(*store);
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    const auto index = unique_index("relrace" + std::to_string(round));
    const auto owner = user_stream("relrace-owner" + std::to_string(round));
    REQUIRE(is_accepted(pipeline.handle({owner, new_user(index), as("owner")})));
    std::vector<user_envelope> commands{{owner, schemas::forget_user{""}, as("owner")}};
    for (int i = 0; i < 8; ++i) {
      commands.push_back({user_stream("relrace" + std::to_string(round) + "_" + std::to_string(i)), new_user(index),
                          as("signup")});
    }
    const auto outcomes = run_concurrently(pg_url(), commands);
    REQUIRE(is_accepted(outcomes.front()));
    const auto winners = std::ranges::count_if(outcomes.begin() + 1, outcomes.end(), is_accepted);
    CHECK(winners <= 1);
    CHECK(holders_of(index).size() == static_cast<std::size_t>(winners));
  }
}

TEST_CASE("the user holding an address is found by its blind index from commit on, and not once forgotten") {
  auto store = make_store();
  user_pipeline pipeline(*store);
  const auto index = unique_index("lookup");
  const auto frank = user_stream("lookup-frank");
  CHECK_FALSE(commands::user::user_with_email(*store, index));
  REQUIRE(is_accepted(pipeline.handle({frank, new_user(index), as("frank")})));
  CHECK(commands::user::user_with_email(*store, index) == frank);
  REQUIRE(is_accepted(pipeline.handle({frank, schemas::forget_user{""}, as("frank")})));
  CHECK_FALSE(commands::user::user_with_email(*store, index));
}
