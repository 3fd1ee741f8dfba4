// The User read models against real Redis and PostgreSQL: the detail hash (ciphertext fields,
// roles, status), the admin list (keyset pages, filters), forgotten users dropped from both,
// exactly-once application and rebuilds equal to the incremental models. Each test runs the
// projections under its own scope (its own category and projection names).

#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "projections/rebuild.hpp"
#include "projections/user/user_projections.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/redis/user_world.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using cqrs::tests::user_world;
namespace up = cqrs::projections::user;

namespace {

schemas::blind_index index_of(char digit) { return schemas::blind_index(std::string(64, digit)); }

schemas::user_registered registered(char digit) {
  return schemas::user_registered{schemas::sealed_text(fmt::format("v1:mail-{}", digit)), index_of(digit),
                                  schemas::password_hash("$argon2id$h"), schemas::sealed_text(fmt::format("v1:name-{}", digit)),
                                  schemas::sealed_text(""), schemas::sealed_text("v1:addr"),
                                  {schemas::user_role("customer")}};
}

std::vector<std::string> ids_of(const std::vector<up::admin_list_row>& rows) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.user_id);
  return ids;
}

}  // namespace

TEST_CASE("the user detail holds the sealed fields as stored, the roles, the status and the version") {
  user_world world("udetail");
  world.project("u1", {registered('1'), schemas::user_role_granted{schemas::user_role("admin")},
                       schemas::user_profile_updated{schemas::sealed_text("v1:n2"), schemas::sealed_text("v1:p2"), {}},
                       schemas::user_email_changed{schemas::sealed_text("v1:m2"), index_of('2')},
                       schemas::user_password_changed{schemas::password_hash("$argon2id$new")}});
  const auto d = world.detail_of("u1").value();
  CHECK(d.at("id") == "u1");
  CHECK(d.at("email") == "v1:m2");
  CHECK(d.at("email_index") == std::string(64, '2'));
  CHECK(d.at("name") == "v1:n2");
  CHECK(d.at("phone") == "v1:p2");
  CHECK(d.at("postal_address") == "");
  CHECK(d.at("status") == "active");
  CHECK(d.at("version") == "5");
  CHECK(d.at("created_at").size() == std::string("2026-01-01T00:00:00.000000Z").size());
  CHECK_FALSE(d.contains("password_hash"));
  CHECK(up::roles_of(d) == std::vector<std::string>{"customer", "admin"});

  world.project("u1", {schemas::user_role_revoked{schemas::user_role("customer")}, schemas::user_deactivated{""}});
  const auto off = world.detail_of("u1").value();
  CHECK(up::roles_of(off) == std::vector<std::string>{"admin"});
  CHECK(off.at("status") == "deactivated");
  world.project("u1", {schemas::user_reactivated{"", {schemas::user_role("admin"), schemas::user_role("support")}}});
  CHECK(up::roles_of(world.detail_of("u1").value()) == std::vector<std::string>{"support", "admin"});
  CHECK(world.detail_of("u1").value().at("status") == "active");
  CHECK_FALSE(world.detail_of("nobody"));
}

TEST_CASE("the admin list pages by (created_at, id) and filters by status, role and blind index") {
  user_world world("ulist");
  for (const char c : std::string("abcde")) world.project(std::string("u") + c, {registered(c)});
  world.project("ub", {schemas::user_role_granted{schemas::user_role("support")}});
  world.project("uc", {schemas::user_deactivated{""}});

  up::admin_list_query all;
  const auto rows = world.page(all);
  CHECK(ids_of(rows) == std::vector<std::string>{"ua", "ub", "uc", "ud", "ue"});
  CHECK(rows[1].roles == std::vector<std::string>{"customer", "support"});
  CHECK(rows[1].version == 2);
  CHECK(rows[2].status == "deactivated");
  CHECK(rows[0].email_index == std::string(64, 'a'));

  up::admin_list_query page;
  page.limit = 2;
  const auto first = world.page(page);
  CHECK(ids_of(first) == std::vector<std::string>{"ua", "ub"});
  page.after = up::admin_list_cursor{first.back().created_at, first.back().user_id};
  const auto second = world.page(page);
  CHECK(ids_of(second) == std::vector<std::string>{"uc", "ud"});
  page.after = up::admin_list_cursor{second.back().created_at, second.back().user_id};
  CHECK(ids_of(world.page(page)) == std::vector<std::string>{"ue"});

  up::admin_list_query support;
  support.role = "support";
  CHECK(ids_of(world.page(support)) == std::vector<std::string>{"ub"});
  up::admin_list_query off;
  off.status = "deactivated";
  CHECK(ids_of(world.page(off)) == std::vector<std::string>{"uc"});
  up::admin_list_query by_email;
  by_email.email_index = std::string(64, 'd');
  CHECK(ids_of(world.page(by_email)) == std::vector<std::string>{"ud"});
}

TEST_CASE("a forgotten user is dropped from the detail and the admin list, and stays dropped") {
  user_world world("uforget");
  world.project("u1", {registered('1'), schemas::user_role_granted{schemas::user_role("support")}});
  world.project("u2", {registered('2')});
  REQUIRE(world.detail_of("u1"));
  world.project("u1", {schemas::user_forgotten{"request"}});
  CHECK_FALSE(world.detail_of("u1"));
  CHECK(ids_of(world.page({})) == std::vector<std::string>{"u2"});
  // Redelivered events of the forgotten user change nothing (exactly once per stream version).
  const auto history = world.store().read_stream(world.stream("u1"), core::stream_version{1}, 100);
  REQUIRE(history.value().events.size() == 3);
  world.detail().apply(history.value().events);
  world.list().apply(history.value().events);
  CHECK_FALSE(world.detail_of("u1"));
  CHECK(ids_of(world.page({})) == std::vector<std::string>{"u2"});
}

TEST_CASE("applying a delivery twice changes the user models once") {
  user_world world("uonce");
  const auto stored = world.append("u1", {registered('1'), schemas::user_role_granted{schemas::user_role("admin")},
                                          schemas::user_role_revoked{schemas::user_role("admin")}});
  world.detail().apply(stored);
  world.list().apply(stored);
  const auto once = world.digest({"u1"});
  world.detail().apply(stored);
  world.list().apply(stored);
  CHECK(world.digest({"u1"}) == once);
  CHECK(world.page({}).front().roles == std::vector<std::string>{"customer"});
}

TEST_CASE("rebuilt user models equal the incrementally built ones") {
  user_world world("urebuild");
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    const auto id = fmt::format("u{:02}", i);
    ids.push_back(id);
    std::vector<schemas::user_event> life{registered(static_cast<char>('a' + i % 6))};
    if (i % 2 == 0) life.push_back(schemas::user_role_granted{schemas::user_role("support")});
    if (i % 3 == 0) life.push_back(schemas::user_deactivated{""});
    if (i % 4 == 0) life.push_back(schemas::user_email_changed{schemas::sealed_text("v1:x"), index_of('f')});
    if (i % 5 == 0) life.push_back(schemas::user_forgotten{""});
    world.project(id, life);
  }
  const auto before = world.digest(ids);
  for (auto* target : {&world.detail(), &world.list()}) {
    projections::rebuild_options options;
    options.batch = 5;
    const auto report = projections::rebuild(*target, world.store(), options);
    CHECK(target->live_model() == report.new_model);
  }
  CHECK(world.digest(ids) == before);
}
