// The last-admin rule across users: the active admins are a set of membership claims
// ("user.admin") changed in the transactions of the events that grant, revoke, deactivate,
// reactivate and forget; a change that would empty the set is refused. Run on a database of
// its own, so that no other run's admins are members.

#include <doctest/doctest.h>

#include <algorithm>

#include "tests/pg_write/user_fixture.hpp"
#include "tests/pg_write/write_fixture.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;
using commands::user::errc;
using commands::user::user_envelope;
using commands::user::user_pipeline;

namespace {

const schemas::user_role admin_role("admin");

void register_admin(user_pipeline& pipeline, const core::stream_id& user, std::string_view name) {
  REQUIRE(is_accepted(pipeline.handle({user, new_user(unique_index(name)), as("setup")})));
  REQUIRE(is_accepted(pipeline.handle({user, schemas::grant_user_role{admin_role}, as("setup")})));
}

// Makes `keeper` (a new admin) the set's only member: every other member is forgotten (the floor
// of one never blocks them, as the keeper stays).
void only_admin(user_pipeline& pipeline, const std::string& url, const core::stream_id& keeper, std::string_view name) {
  register_admin(pipeline, keeper, name);
  for (const auto& holder : claim_holders(url, "user.admin")) {
    if (holder == keeper.str()) continue;
    REQUIRE(is_accepted(pipeline.handle({core::stream_id::parse(holder).value(), schemas::forget_user{""}, as("setup")})));
  }
  REQUIRE(claim_holders(url, "user.admin") == std::vector<std::string>{keeper.str()});
}

}  // namespace

TEST_CASE("the admins set: the last admin cannot be revoked, deactivated or forgotten; with two, one can leave") {
  const auto& url = private_database_url();
  auto store = make_store_on(url);
  user_pipeline pipeline(*store);
  const auto root = user_stream("adm-root");
  only_admin(pipeline, url, root, "adm-root");

  CHECK(refused_with(pipeline.handle({root, schemas::revoke_user_role{admin_role}, as("root")}), errc::last_admin));
  CHECK(refused_with(pipeline.handle({root, schemas::deactivate_user{""}, as("root")}), errc::last_admin));
  CHECK(refused_with(pipeline.handle({root, schemas::forget_user{""}, as("root")}), errc::last_admin));
  CHECK(store->current_version(root) == core::stream_version{2});

  // Refusals by the set are stored under their idempotency key like any rejection.
  const auto keyed = pipeline.handle({root, schemas::deactivate_user{""}, as("root", "adm-key-" + run_id())});
  CHECK(refused_with(keyed, errc::last_admin));
  const auto again = pipeline.handle({root, schemas::deactivate_user{""}, as("root", "adm-key-" + run_id())});
  REQUIRE(refused_with(again, errc::last_admin));
  CHECK(std::get<commands::rejected<commands::user::rejection>>(again).replayed);

  const auto second = user_stream("adm-second");
  register_admin(pipeline, second, "adm-second");
  CHECK(claim_holders(url, "user.admin").size() == 2);
  CHECK(is_accepted(pipeline.handle({root, schemas::deactivate_user{"leave"}, as("second")})));
  CHECK(claim_holders(url, "user.admin") == std::vector<std::string>{second.str()});
  CHECK(refused_with(pipeline.handle({second, schemas::revoke_user_role{admin_role}, as("second")}), errc::last_admin));
  // Reactivating an admin brings it back into the set; then the other may go.
  CHECK(is_accepted(pipeline.handle({root, schemas::reactivate_user{""}, as("second")})));
  CHECK(claim_holders(url, "user.admin").size() == 2);
  CHECK(is_accepted(pipeline.handle({second, schemas::forget_user{""}, as("root")})));
  CHECK(claim_holders(url, "user.admin") == std::vector<std::string>{root.str()});
  // Non-admins come and go freely.
  const auto plain = user_stream("adm-plain");
  REQUIRE(is_accepted(pipeline.handle({plain, new_user(unique_index("adm-plain")), as("x")})));
  CHECK(is_accepted(pipeline.handle({plain, schemas::deactivate_user{""}, as("root")})));
  CHECK(claim_holders(url, "user.admin") == std::vector<std::string>{root.str()});
}

TEST_CASE("two admins demoting each other concurrently: exactly one succeeds, one admin remains") {
  const auto& url = private_database_url();
  auto store = make_store_on(url);
  user_pipeline pipeline(*store);
  const auto keeper = user_stream("race-keeper");
  only_admin(pipeline, url, keeper, "race-keeper");
  for (int round = 0; round < 10; ++round) {
    CAPTURE(round);
    const auto a = user_stream("race-a" + std::to_string(round));
    const auto b = user_stream("race-b" + std::to_string(round));
    register_admin(pipeline, a, "race-a" + std::to_string(round));
    register_admin(pipeline, b, "race-b" + std::to_string(round));
    // The set is exactly {a, b}: the keeper steps down (two others remain).
    REQUIRE(is_accepted(pipeline.handle({keeper, schemas::revoke_user_role{admin_role}, as("a")})));
    REQUIRE(claim_holders(url, "user.admin").size() == 2);

    const auto outcomes = run_concurrently(url, {{b, schemas::revoke_user_role{admin_role}, as(a.str())},
                                                 {a, schemas::revoke_user_role{admin_role}, as(b.str())}});
    CHECK(std::ranges::count_if(outcomes, is_accepted) == 1);
    CHECK(std::ranges::count_if(outcomes, [](const auto& o) { return refused_with(o, errc::last_admin); }) == 1);
    const auto left = claim_holders(url, "user.admin");
    REQUIRE(left.size() == 1);
    // The survivor's own stream agrees: it still holds the admin role, the other does not.
    const auto survivor = left.front() == a.str() ? a : b;
    CHECK(pipeline.load(survivor).state.has_role("admin"));
    CHECK_FALSE(pipeline.load(survivor == a ? b : a).state.has_role("admin"));

    // Back to one stable admin for the next round: the keeper is admin again, the survivor leaves.
    REQUIRE(is_accepted(pipeline.handle({keeper, schemas::grant_user_role{admin_role}, as("x")})));
    REQUIRE(is_accepted(pipeline.handle({survivor, schemas::forget_user{""}, as("x")})));
  }
}

TEST_CASE("three admins deactivating each other all at once: at least one admin always remains") {
  const auto& url = private_database_url();
  auto store = make_store_on(url);
  user_pipeline pipeline(*store);
  const auto keeper = user_stream("trio-keeper");
  only_admin(pipeline, url, keeper, "trio-keeper");
  std::vector<core::stream_id> admins{keeper};
  for (int i = 0; i < 2; ++i) {
    admins.push_back(user_stream("trio" + std::to_string(i)));
    register_admin(pipeline, admins.back(), "trio" + std::to_string(i));
  }
  std::vector<user_envelope> commands;
  for (const auto& admin : admins) commands.push_back({admin, schemas::deactivate_user{""}, as("x")});
  const auto outcomes = run_concurrently(url, commands);
  CHECK(std::ranges::count_if(outcomes, is_accepted) == 2);
  CHECK(claim_holders(url, "user.admin").size() == 1);
}
