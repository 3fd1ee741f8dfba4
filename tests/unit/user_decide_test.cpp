// decide() and evolve() for every User command and rule: what is accepted, the events it yields,
// the claims those events make and release, and the stable code of every refusal.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "commands/user/user_aggregate.hpp"
#include "commands/user/user_rules.hpp"
#include "core/aggregate.hpp"

namespace s = cqrs::schemas;
namespace u = cqrs::commands::user;
namespace c = cqrs::commands;
using u::errc;

namespace {

using A = u::user_aggregate;

const std::string index_a(64, 'a');
const std::string index_b(64, 'b');

s::register_user registration(std::string index = index_a) {
  return s::register_user{s::sealed_text("v1:mail"), s::blind_index(std::move(index)),
                          s::password_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
                          s::sealed_text("v1:name"), s::sealed_text(""), s::sealed_text("v1:addr")};
}

u::user_decision decide_on(const u::user_state& state, s::user_command command) { return A::decide(state, command); }

u::user_state after(u::user_state state, const std::vector<s::user_command>& commands) {
  for (const auto& command : commands) {
    const auto d = A::decide(state, command);
    REQUIRE(d.accepted());
    state = cqrs::core::apply_decision<A>(state, d);
  }
  return state;
}

const u::user_state nobody = A::initial_state();

u::user_state registered() { return after(nobody, {registration()}); }
u::user_state admin() { return after(registered(), {s::grant_user_role{s::user_role("admin")}}); }
u::user_state deactivated() { return after(registered(), {s::deactivate_user{""}}); }
u::user_state forgotten() { return after(registered(), {s::forget_user{""}}); }

errc code_of(const u::user_decision& d) {
  REQUIRE_FALSE(d.accepted());
  return d.rejection().code;
}

s::user_event only_event(const u::user_decision& d) {
  REQUIRE(d.accepted());
  REQUIRE(d.events().size() == 1);
  return d.events().front();
}

bool changes_nothing(const u::user_decision& d) { return d.accepted() && d.events().empty(); }

}  // namespace

TEST_CASE("registering yields user.registered with the sealed fields, the blind index and the customer role") {
  const auto e = std::get<s::user_registered>(only_event(decide_on(nobody, registration())));
  CHECK(e.email == s::sealed_text("v1:mail"));
  CHECK(e.email_index == s::blind_index(index_a));
  CHECK(e.name == s::sealed_text("v1:name"));
  CHECK(e.phone.value().empty());
  CHECK(e.postal_address == s::sealed_text("v1:addr"));
  CHECK(e.roles == std::vector<s::user_role>{s::user_role("customer")});
  const auto state = registered();
  CHECK(state.status == u::user_status::active);
  CHECK(state.roles == std::set<std::string>{"customer"});
}

TEST_CASE("registering twice, or a forgotten user, is refused") {
  CHECK(code_of(decide_on(registered(), registration())) == errc::user_already_registered);
  CHECK(code_of(decide_on(forgotten(), registration())) == errc::user_forgotten);
}

TEST_CASE("registration checks every field's shape, in field order") {
  auto no_email = registration();
  no_email.email = s::sealed_text("");
  CHECK(code_of(decide_on(nobody, no_email)) == errc::invalid_email);
  auto spaced = registration();
  spaced.email = s::sealed_text("alice @example.com");
  CHECK(code_of(decide_on(nobody, spaced)) == errc::invalid_email);
  auto huge = registration();
  huge.name = s::sealed_text(std::string(u::limits::max_sealed_length + 1, 'x'));
  CHECK(code_of(decide_on(nobody, huge)) == errc::invalid_name);
  auto no_name = registration();
  no_name.name = s::sealed_text("");
  CHECK(code_of(decide_on(nobody, no_name)) == errc::invalid_name);
  auto bad_phone = registration();
  bad_phone.phone = s::sealed_text("\x01");
  CHECK(code_of(decide_on(nobody, bad_phone)) == errc::invalid_phone);
  auto bad_address = registration();
  bad_address.postal_address = s::sealed_text("a b");
  CHECK(code_of(decide_on(nobody, bad_address)) == errc::invalid_postal_address);
  auto no_hash = registration();
  no_hash.password = s::password_hash("");
  CHECK(code_of(decide_on(nobody, no_hash)) == errc::invalid_password_hash);
  auto long_hash = registration();
  long_hash.password = s::password_hash(std::string(u::limits::max_password_hash_length + 1, 'h'));
  CHECK(code_of(decide_on(nobody, long_hash)) == errc::invalid_password_hash);
  auto both_bad = registration();
  both_bad.email = s::sealed_text("");
  both_bad.name = s::sealed_text("");
  CHECK(code_of(decide_on(nobody, both_bad)) == errc::invalid_email);
}

TEST_CASE("the e-mail index is lowercase hex of an even number of digits, 32 to 128") {
  for (const std::string& good : {std::string(32, '0'), std::string(64, 'f'), std::string(128, '9')}) {
    CAPTURE(good);
    CHECK(decide_on(nobody, registration(good)).accepted());
  }
  for (const std::string& bad : {std::string(30, 'a'), std::string(130, 'a'), std::string(63, 'a'),
                                 std::string(64, 'A'), std::string(64, 'g'), std::string()}) {
    CAPTURE(bad);
    CHECK(code_of(decide_on(nobody, registration(bad))) == errc::invalid_email_index);
  }
}

TEST_CASE("commands on a user that does not exist are refused with user.not_found") {
  const std::vector<s::user_command> all{
      s::update_user_profile{s::sealed_text("n"), {}, {}}, s::change_user_email{s::sealed_text("m"), s::blind_index(index_b)},
      s::change_user_password{s::password_hash("h")},     s::grant_user_role{s::user_role("support")},
      s::revoke_user_role{s::user_role("customer")},      s::deactivate_user{""},
      s::reactivate_user{""},                             s::forget_user{""}};
  for (const auto& command : all) CHECK(code_of(decide_on(nobody, command)) == errc::user_not_found);
}

TEST_CASE("a forgotten user accepts no command at all, and keeps none of its sealed fields") {
  const auto state = forgotten();
  CHECK(state.status == u::user_status::forgotten);
  CHECK(state.email.value().empty());
  CHECK(state.name.value().empty());
  CHECK(state.password.value().empty());
  CHECK(state.roles.empty());
  const std::vector<s::user_command> all{
      registration(), s::update_user_profile{s::sealed_text("n"), {}, {}},
      s::change_user_email{s::sealed_text("m"), s::blind_index(index_b)}, s::change_user_password{s::password_hash("h")},
      s::grant_user_role{s::user_role("support")}, s::revoke_user_role{s::user_role("customer")},
      s::deactivate_user{""}, s::reactivate_user{""}, s::forget_user{""}};
  for (const auto& command : all) CHECK(code_of(decide_on(state, command)) == errc::user_forgotten);
}

TEST_CASE("updating the profile replaces name, phone and address; the same profile changes nothing") {
  const auto e = std::get<s::user_profile_updated>(
      only_event(decide_on(registered(), s::update_user_profile{s::sealed_text("n2"), s::sealed_text("p2"), {}})));
  CHECK(e == s::user_profile_updated{s::sealed_text("n2"), s::sealed_text("p2"), s::sealed_text("")});
  CHECK(changes_nothing(decide_on(registered(), s::update_user_profile{s::sealed_text("v1:name"), {}, s::sealed_text("v1:addr")})));
  CHECK(code_of(decide_on(registered(), s::update_user_profile{s::sealed_text(""), {}, {}})) == errc::invalid_name);
  CHECK(decide_on(deactivated(), s::update_user_profile{s::sealed_text("n2"), {}, {}}).accepted());
}

TEST_CASE("changing the e-mail yields the new sealed address and index; the same pair changes nothing") {
  const auto e = std::get<s::user_email_changed>(
      only_event(decide_on(registered(), s::change_user_email{s::sealed_text("v1:new"), s::blind_index(index_b)})));
  CHECK(e.email_index == s::blind_index(index_b));
  CHECK(changes_nothing(decide_on(registered(), s::change_user_email{s::sealed_text("v1:mail"), s::blind_index(index_a)})));
  CHECK(code_of(decide_on(registered(), s::change_user_email{s::sealed_text("v1:new"), s::blind_index("xyz")})) ==
        errc::invalid_email_index);
  CHECK(code_of(decide_on(registered(), s::change_user_email{s::sealed_text(""), s::blind_index(index_b)})) ==
        errc::invalid_email);
}

TEST_CASE("changing the password stores the new hash") {
  const auto e = std::get<s::user_password_changed>(
      only_event(decide_on(registered(), s::change_user_password{s::password_hash("$argon2id$new")})));
  CHECK(e.password == s::password_hash("$argon2id$new"));
  CHECK(code_of(decide_on(registered(), s::change_user_password{s::password_hash("with space")})) ==
        errc::invalid_password_hash);
}

TEST_CASE("roles: customer, support and admin are granted and revoked; anything else is unknown") {
  CHECK(std::get<s::user_role_granted>(only_event(decide_on(registered(), s::grant_user_role{s::user_role("support")}))).role ==
        s::user_role("support"));
  CHECK(changes_nothing(decide_on(registered(), s::grant_user_role{s::user_role("customer")})));
  CHECK(changes_nothing(decide_on(registered(), s::revoke_user_role{s::user_role("admin")})));
  CHECK(code_of(decide_on(registered(), s::grant_user_role{s::user_role("root")})) == errc::unknown_role);
  CHECK(code_of(decide_on(registered(), s::revoke_user_role{s::user_role("Admin")})) == errc::unknown_role);
  const auto state = admin();
  CHECK(state.roles == std::set<std::string>{"admin", "customer"});
  CHECK(after(state, {s::revoke_user_role{s::user_role("admin")}}).roles == std::set<std::string>{"customer"});
}

TEST_CASE("roles of a deactivated user do not change until it is reactivated") {
  CHECK(code_of(decide_on(deactivated(), s::grant_user_role{s::user_role("admin")})) == errc::user_deactivated);
  CHECK(code_of(decide_on(deactivated(), s::revoke_user_role{s::user_role("customer")})) == errc::user_deactivated);
}

TEST_CASE("deactivating and reactivating; repeating either changes nothing; reactivation repeats the roles") {
  CHECK(std::holds_alternative<s::user_deactivated>(only_event(decide_on(registered(), s::deactivate_user{"fraud check"}))));
  CHECK(changes_nothing(decide_on(deactivated(), s::deactivate_user{""})));
  CHECK(changes_nothing(decide_on(registered(), s::reactivate_user{""})));
  const auto admin_off = after(admin(), {s::deactivate_user{""}});
  const auto back = std::get<s::user_reactivated>(only_event(decide_on(admin_off, s::reactivate_user{"ok"})));
  CHECK(back.roles == std::vector<s::user_role>{s::user_role("admin"), s::user_role("customer")});
  CHECK(code_of(decide_on(registered(), s::deactivate_user{std::string(u::limits::max_reason_length + 1, 'r')})) ==
        errc::invalid_reason);
  CHECK(code_of(decide_on(registered(), s::deactivate_user{"bad\nline"})) == errc::invalid_reason);
  CHECK(code_of(decide_on(registered(), s::forget_user{"\xff"})) == errc::invalid_reason);
  CHECK(decide_on(registered(), s::forget_user{"Löschung auf Wunsch"}).accepted());
}

TEST_CASE("claims: registration and a new address claim the blind index; the old one is released first") {
  const auto reg = A::claims(s::user_registered{{}, s::blind_index(index_a), {}, {}, {}, {}, {s::user_role("customer")}});
  CHECK(reg == std::vector<c::unique_claim>{{"user.email", index_a}});
  const s::user_event changed = s::user_email_changed{s::sealed_text("m"), s::blind_index(index_b)};
  CHECK(A::releases(changed) == std::vector<c::claim_release>{{"user.email", false}});
  CHECK(A::claims(changed) == std::vector<c::unique_claim>{{"user.email", index_b}});
}

TEST_CASE("claims: the admins set is joined by granting admin or reactivating an admin, and left with a floor") {
  const auto member = c::unique_claim::member_of("user.admin");
  const c::claim_release leave{"user.admin", true};
  CHECK(A::claims(s::user_role_granted{s::user_role("admin")}) == std::vector<c::unique_claim>{member});
  CHECK(A::claims(s::user_role_granted{s::user_role("support")}).empty());
  CHECK(A::releases(s::user_role_revoked{s::user_role("admin")}) == std::vector<c::claim_release>{leave});
  CHECK(A::releases(s::user_role_revoked{s::user_role("support")}).empty());
  CHECK(A::releases(s::user_deactivated{""}) == std::vector<c::claim_release>{leave});
  CHECK(A::claims(s::user_reactivated{"", {s::user_role("admin")}}) == std::vector<c::unique_claim>{member});
  CHECK(A::claims(s::user_reactivated{"", {s::user_role("customer")}}).empty());
  const auto gone = A::releases(s::user_forgotten{""});
  CHECK(gone == std::vector<c::claim_release>{leave, {"user.email", false}});
}

TEST_CASE("refused claims and releases become the user's rejections") {
  CHECK(A::claim_refused({"user.email", index_a}).code == errc::email_already_taken);
  CHECK(A::release_refused({"user.admin", true}).code == errc::last_admin);
}

TEST_CASE("a snapshot reads back as the state it was made of") {
  const auto state = after(admin(), {s::deactivate_user{""}});
  const auto back = A::decode_snapshot(A::snapshot_schema_version, A::encode_snapshot(state));
  REQUIRE(back);
  CHECK(*back == state);
  CHECK_FALSE(A::decode_snapshot(A::snapshot_schema_version + 1, A::encode_snapshot(state)));
}

TEST_CASE("a rejection stored under an idempotency key reads back; unknown codes do not") {
  const u::rejection why{errc::last_admin, "x"};
  CHECK(A::decode_rejection(A::encode_rejection(why)) == why);
  CHECK_FALSE(A::decode_rejection(R"({"code":999,"detail":""})"));
  CHECK_FALSE(A::decode_rejection("not json"));
}
