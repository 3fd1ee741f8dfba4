// The User aggregate through the command pipeline on PostgreSQL: a user's life stored as events
// (sealed fields only), reloaded from snapshots, idempotent retries, and the cached path left to
// commands that change claims; rights recorded with the events that change them.

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <utility>

#include <boost/json/parse.hpp>
#include <pqxx/pqxx>

#include "commands/domains.hpp"
#include "core/subject_rights.hpp"
#include "tests/pg_write/user_fixture.hpp"
#include "tests/pg_write/write_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;
using commands::user::errc;
using commands::user::user_pipeline;

TEST_CASE("a user's life is stored as user events carrying sealed fields and the blind index, never more") {
  auto store = make_store();
  user_pipeline pipeline(*store);
  const auto alice = user_stream("life");
  const auto index = unique_index("life");
  const std::vector<schemas::user_command> life{
      new_user(index),
      schemas::update_user_profile{schemas::sealed_text("v1:bjI="), schemas::sealed_text("v1:cA=="), {}},
      schemas::change_user_password{schemas::password_hash("$argon2id$v=19$new")},
      schemas::grant_user_role{schemas::user_role("support")},
      schemas::revoke_user_role{schemas::user_role("support")},
      schemas::deactivate_user{"check"},
      schemas::reactivate_user{"ok"},
      schemas::change_user_email{schemas::sealed_text("v1:bTI="), unique_index("life2")}};
  for (const auto& command : life) REQUIRE(is_accepted(pipeline.handle({alice, command, as("alice")})));

  const auto events = whole_stream(*store, alice);
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.type);
  CHECK(types == std::vector<std::string>{"user.registered", "user.profile_updated", "user.password_changed",
                                          "user.role_granted", "user.role_revoked", "user.deactivated",
                                          "user.reactivated", "user.email_changed"});
  const auto registered = boost::json::parse(events.front().payload).as_object();
  CHECK(registered.at("email") == "v1:c2VhbGVkLW1haWw=");
  CHECK(registered.at("email_index") == boost::json::value(index.value()));
  CHECK(events.front().metadata.actor == "alice");

  const auto loaded = pipeline.load(alice);
  CHECK(loaded.version == core::stream_version{8});
  CHECK(loaded.state.status == commands::user::user_status::active);
  CHECK(loaded.state.email_index == unique_index("life2"));
  CHECK(loaded.state.roles == std::set<std::string>{"customer"});
}

TEST_CASE("a user loads from a snapshot and the events after it, to the same state") {
  auto store = make_store();
  user_pipeline snapshotting(*store, {.snapshot_every = 3});
  const auto bob = user_stream("snap");
  REQUIRE(is_accepted(snapshotting.handle({bob, new_user(unique_index("snap")), as("bob")})));
  for (int i = 0; i < 4; ++i) {
    const auto role = schemas::user_role(i % 2 == 0 ? "support" : "customer");
    const schemas::user_command change = i < 2 ? schemas::user_command{schemas::revoke_user_role{role}}
                                               : schemas::user_command{schemas::grant_user_role{role}};
    REQUIRE(is_accepted(snapshotting.handle({bob, change, as("bob")})));
  }
  user_pipeline replaying(*store, {.snapshot_every = 0});
  const auto from_snapshot = snapshotting.load(bob);
  CHECK(from_snapshot.snapshot_version.has_value());
  CHECK(from_snapshot.state == replaying.load(bob).state);
}

TEST_CASE("a keyed registration retried answers as first answered; the same key for another command is refused") {
  auto store = make_store();
  user_pipeline pipeline(*store);
  const auto carol = user_stream("idem");
  const auto key = "user-idem-" + run_id();
  const auto first = pipeline.handle({carol, new_user(unique_index("idem")), as("carol", key)});
  REQUIRE(is_accepted(first));
  const auto retry = pipeline.handle({carol, new_user(unique_index("idem")), as("carol", key)});
  REQUIRE(is_accepted(retry));
  CHECK(std::get<commands::accepted>(retry).replayed);
  CHECK(std::get<commands::accepted>(retry).event_ids == std::get<commands::accepted>(first).event_ids);
  CHECK(std::holds_alternative<commands::idempotency_key_reused>(
      pipeline.handle({carol, schemas::deactivate_user{""}, as("carol", key)})));
  CHECK(store->current_version(carol) == core::stream_version{1});
}

TEST_CASE("the cached path takes plain changes but leaves commands that move claims to the pipeline") {
  auto store = make_store();
  user_pipeline::cache_type cache(100);
  user_pipeline pipeline(*store, {}, &cache);
  const auto dave = user_stream("cached");
  REQUIRE(is_accepted(pipeline.handle({dave, new_user(unique_index("cached")), as("dave")})));
  const commands::pipeline_options options;
  CHECK(user_pipeline::plan_cached(cache, options,
                                   {dave, schemas::change_user_password{schemas::password_hash("$x")}, as("dave")}));
  CHECK_FALSE(user_pipeline::plan_cached(
      cache, options, {dave, schemas::change_user_email{schemas::sealed_text("m"), unique_index("cached2")}, as("dave")}));
  CHECK_FALSE(user_pipeline::plan_cached(cache, options, {dave, schemas::deactivate_user{""}, as("dave")}));
  CHECK_FALSE(user_pipeline::plan_cached(cache, options, {dave, schemas::forget_user{""}, as("dave")}));
}

TEST_CASE("cqrs state folds a user stream: sealed fields as stored, no password hash") {
  auto store = make_store();
  user_pipeline pipeline(*store);
  const auto erin = user_stream("state");
  REQUIRE(is_accepted(pipeline.handle({erin, new_user(unique_index("state")), as("erin")})));
  const auto* entry = commands::aggregates().find("user");
  REQUIRE(entry != nullptr);
  auto folder = entry->make_folder();
  folder->fold(whole_stream(*store, erin));
  const auto state = folder->state_json();
  CHECK(state.at("status") == "active");
  CHECK(state.at("email") == "v1:c2VhbGVkLW1haWw=");
  CHECK(state.at("password_set") == true);
  CHECK_FALSE(state.contains("password_hash"));
}

namespace {

// The subject_rights row of the user (active, roles as text), if any.
std::optional<std::pair<bool, std::string>> rights_row(const core::stream_id& user) {
  pqxx::connection c(tests::pg_url());
  pqxx::work tx(c);
  core::ensure_subject_rights_table(tx);
  const auto& text = user.str();
  const auto rows = tx.exec_params("SELECT active, roles::text FROM subject_rights WHERE subject = $1",
                                   text.substr(text.find('-') + 1));
  tx.commit();
  if (rows.empty()) return std::nullopt;
  return std::make_pair(rows[0][0].as<bool>(), rows[0][1].as<std::string>());
}

}  // namespace

TEST_CASE("a change of rights records the user's rights in the command's own transaction, nothing else does") {
  auto store = make_store();
  user_pipeline pipeline(*store);
  const auto bob = user_stream("rights");
  REQUIRE(is_accepted(pipeline.handle({bob, new_user(unique_index("rights")), as("bob")})));
  REQUIRE(is_accepted(pipeline.handle({bob, schemas::update_user_profile{schemas::sealed_text("v1:bg=="), {}, {}}, as("bob")})));
  CHECK_FALSE(rights_row(bob).has_value());  // registration and profile changes take no rights away

  // Written by the append's own transaction (its notification goes out at that commit): there is
  // no moment at which the events are committed and the rights not.
  REQUIRE(is_accepted(pipeline.handle({bob, schemas::grant_user_role{schemas::user_role("support")}, as("admin")})));
  auto row = rights_row(bob);
  REQUIRE(row.has_value());
  CHECK(row->first);
  CHECK(row->second == "{customer,support}");

  REQUIRE(is_accepted(pipeline.handle({bob, schemas::deactivate_user{"check"}, as("admin")})));
  row = rights_row(bob);
  REQUIRE(row.has_value());
  CHECK_FALSE(row->first);

  // A refused command (the same deactivation again changes nothing) leaves the row as it was.
  (void)pipeline.handle({bob, schemas::deactivate_user{"again"}, as("admin")});
  REQUIRE(is_accepted(pipeline.handle({bob, schemas::reactivate_user{"ok"}, as("admin")})));
  row = rights_row(bob);
  REQUIRE(row.has_value());
  CHECK(row->first);
}
