// The User contracts' stored and JSON forms: every event and command reads back equal, payloads
// are flat objects of the stored field names, the catalog prints stored user events, and bad
// bytes are contract errors.

#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include <boost/json/parse.hpp>

#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/user/user_codec.hpp"
#include "schemas/contracts/user/user_json.hpp"

namespace s = cqrs::schemas;

namespace {

const s::blind_index index_a(std::string(64, 'a'));

std::vector<s::user_event> one_of_each_event() {
  return {s::user_registered{s::sealed_text("v1:bWFpbA=="), index_a, s::password_hash("$argon2id$v=19$x"),
                             s::sealed_text("v1:bmFtZQ=="), s::sealed_text(""), s::sealed_text("v1:YWRkcg=="),
                             {s::user_role("customer")}},
          s::user_profile_updated{s::sealed_text("n"), s::sealed_text("p"), s::sealed_text("")},
          s::user_email_changed{s::sealed_text("m2"), s::blind_index(std::string(64, 'b'))},
          s::user_password_changed{s::password_hash("$argon2id$y")},
          s::user_role_granted{s::user_role("admin")},
          s::user_role_revoked{s::user_role("support")},
          s::user_deactivated{"fraud \"check\"\n"},
          s::user_reactivated{"", {s::user_role("admin"), s::user_role("customer")}},
          s::user_forgotten{"on request"}};
}

std::vector<s::user_command> one_of_each_command() {
  return {s::register_user{s::sealed_text("m"), index_a, s::password_hash("h"), s::sealed_text("n"), {}, {}},
          s::update_user_profile{s::sealed_text("n"), s::sealed_text("p"), s::sealed_text("a")},
          s::change_user_email{s::sealed_text("m"), index_a},
          s::change_user_password{s::password_hash("h")},
          s::grant_user_role{s::user_role("support")},
          s::revoke_user_role{s::user_role("support")},
          s::deactivate_user{"r"},
          s::reactivate_user{"r"},
          s::forget_user{"r"}};
}

}  // namespace

TEST_CASE("every user event type reads back equal from its stored form") {
  const auto events = one_of_each_event();
  CHECK(events.size() == std::variant_size_v<s::user_event>);
  for (const auto& event : events) {
    const auto stored = s::encode(event);
    CAPTURE(stored.type);
    CHECK(stored.schema_version == 1);
    CHECK(s::is_user_event(stored.type, stored.schema_version));
    CHECK(s::decode_user_event(stored.type, stored.schema_version, stored.data) == event);
  }
}

TEST_CASE("every user command type reads back equal from its stored form") {
  const auto commands = one_of_each_command();
  CHECK(commands.size() == std::variant_size_v<s::user_command>);
  for (const auto& command : commands) {
    const auto stored = s::encode(command);
    CAPTURE(stored.type);
    CHECK(s::decode_user_command(stored.type, stored.schema_version, stored.data) == command);
  }
}

TEST_CASE("user.registered is stored as a flat object: sealed fields and the index bare, roles an array") {
  const auto stored = s::encode(one_of_each_event().front());
  CHECK(stored.type == "user.registered");
  CHECK(boost::json::parse(stored.data) == boost::json::parse(R"({"email":"v1:bWFpbA==","email_index":")" +
                                                              std::string(64, 'a') +
                                                              R"(","password_hash":"$argon2id$v=19$x","name":"v1:bmFtZQ==",)"
                                                              R"("phone":"","postal_address":"v1:YWRkcg==","roles":["customer"]})"));
}

TEST_CASE("the JSON view of each user event has its identity and the stored field names") {
  for (const auto& event : one_of_each_event()) {
    const auto stored = s::encode(event);
    const auto view = s::to_json(event);
    CAPTURE(stored.type);
    CHECK(view.at("type") == boost::json::value(stored.type));
    CHECK(view.at("schema_version") == 1);
    CHECK(view.at("data") == boost::json::parse(stored.data));
    // The catalog prints a stored user event the same way.
    CHECK(s::stored_event_to_json(stored.type, stored.schema_version, stored.data) == view);
  }
  const auto command_view = s::to_json(s::user_command{s::grant_user_role{s::user_role("admin")}});
  CHECK(command_view.at("type") == "user.grant_role");
  CHECK(command_view.at("data") == boost::json::parse(R"({"role":"admin"})"));
}

TEST_CASE("unknown user versions and unreadable payloads are contract errors, never crashes") {
  CHECK_THROWS_AS(s::decode_user_event("user.registered", 2, "{}"), s::contract_error);
  CHECK_THROWS_AS(s::decode_user_event("user.nothing", 1, "{}"), s::contract_error);
  for (const char* bad : {"", "{", "[]", R"({"role":1})", "{}", R"({"email":"m"})", "null"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(s::decode_user_event("user.role_granted", 1, bad), s::contract_error);
  }
  CHECK_THROWS_AS(s::decode_user_event("user.registered", 1, R"({"email":"m","roles":"customer"})"), s::contract_error);
}
