// Users' access tokens and the keys that sign them: key ids (rotation), the token type that marks a
// user's token, the claims it must carry, its cut-down to the user's current rights; and the login
// throttle's schedule.

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include <boost/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gateway/jwt.hpp"
#include "tests/unit/jwt_support.hpp"
#include "gateway/user/user_services.hpp"

namespace {

using namespace std::chrono_literals;
using cqrs::gateway::auth_config;
using cqrs::gateway::jwt_verifier;
using cqrs::gateway::principal;
using cqrs::gateway::token_claims;
using cqrs::gateway::token_refusal;
using cqrs::gateway::subject_rights;
namespace detail = cqrs::gateway::detail;
using cqrs::tests::accepted;
using cqrs::tests::hs256;
using cqrs::tests::refusal_of;

constexpr std::int64_t now_s = 1'800'000'000;
constexpr std::chrono::system_clock::time_point now{std::chrono::seconds{now_s}};
const std::string old_secret(40, 'o');
const std::string new_secret(40, 'n');

auth_config with_keys(std::vector<cqrs::gateway::jwt_key> keys) {
  auth_config c;
  c.keys = std::move(keys);
  c.jwt_secret = c.keys.front().secret;
  return c;
}

boost::json::object part(const std::string& token, int index) {
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  const auto text = index == 0 ? token.substr(0, first) : token.substr(first + 1, second - first - 1);
  return boost::json::parse(*detail::base64url_decode(text)).as_object();
}

// What a gateway heard about users' rights.
struct rights_table final : cqrs::gateway::rights_source {
  std::map<std::string, subject_rights, std::less<>> rows;
  std::optional<subject_rights> rights_of(std::string_view subject) const override {
    const auto found = rows.find(subject);
    if (found == rows.end()) return std::nullopt;
    return found->second;
  }
};

}  // namespace

TEST_SUITE("jwt") {

TEST_CASE("jwt keys: the first key signs under its kid, and every configured key verifies") {
  const auto before = with_keys({{"k1", old_secret}});
  const auto during = with_keys({{"k2", new_secret}, {"k1", old_secret}});
  const auto old_token = jwt_verifier(before).sign(token_claims{"alice", {"admin"}, 600s}, now);
  const auto new_token = jwt_verifier(during).sign(token_claims{"alice", {"admin"}, 600s}, now);
  CHECK(part(old_token, 0).at("kid").as_string() == "k1");
  CHECK(part(new_token, 0).at("kid").as_string() == "k2");
  CHECK(accepted(jwt_verifier(during).verify(old_token, now)).subject == "alice");
  CHECK(accepted(jwt_verifier(during).verify(new_token, now)).subject == "alice");
  // Once the old key is retired, its tokens are refused by name.
  CHECK(refusal_of(jwt_verifier(with_keys({{"k2", new_secret}})).verify(old_token, now)) == "unknown key id: k1");
}

TEST_CASE("jwt keys: a kid naming a key with another secret does not verify") {
  const auto token = jwt_verifier(with_keys({{"k1", old_secret}})).sign(token_claims{"alice", {}, 600s}, now);
  CHECK(refusal_of(jwt_verifier(with_keys({{"k1", new_secret}})).verify(token, now)) == "bad signature");
}

TEST_CASE("jwt: a user's token is typed at+jwt and carries iat and a unique jti; an operator's is typed JWT") {
  const jwt_verifier signer(with_keys({{"k1", old_secret}}));
  const auto user = signer.sign(token_claims{"u-1", {"customer"}, 900s, true}, now);
  const auto again = signer.sign(token_claims{"u-1", {"customer"}, 900s, true}, now);
  const auto operator_token = signer.sign(token_claims{"ops", {"admin"}, 900s}, now);
  CHECK(part(user, 0).at("typ").as_string() == "at+jwt");
  CHECK(part(operator_token, 0).at("typ").as_string() == "JWT");
  const auto claims = part(user, 1);
  CHECK(claims.at("iat").to_number<std::int64_t>() == now_s);
  CHECK(claims.at("exp").to_number<std::int64_t>() == now_s + 900);
  CHECK(claims.at("jti").as_string() != part(again, 1).at("jti").as_string());
  CHECK(accepted(signer.verify(user, now)).roles == std::vector<std::string>{"customer"});
}

TEST_CASE("jwt: a user's token is cut down to the rights the user still has; operators' tokens are not") {
  rights_table table;
  const auto config = with_keys({{"k1", old_secret}});
  const jwt_verifier verifier(config, &table);
  const auto user = verifier.sign(token_claims{"u-1", {"customer", "admin"}, 900s, true}, now);
  const auto operator_token = verifier.sign(token_claims{"u-1", {"admin"}, 900s}, now);
  CHECK(accepted(verifier.verify(user, now)).roles == std::vector<std::string>{"customer", "admin"});

  table.rows["u-1"] = subject_rights{true, {"customer"}};
  // Already verified once (remembered): the rights are applied at every use.
  CHECK(accepted(verifier.verify(user, now)).roles == std::vector<std::string>{"customer"});
  CHECK(accepted(verifier.verify(operator_token, now)).roles == std::vector<std::string>{"admin"});

  table.rows["u-1"] = subject_rights{false, {"customer"}};
  CHECK(refusal_of(verifier.verify(user, now)) == "revoked");
  CHECK(accepted(verifier.verify(operator_token, now)).subject == "u-1");
}

TEST_CASE("jwt: a token typed at+jwt without iat or jti is refused") {
  const jwt_verifier verifier(with_keys({{"k1", old_secret}}));
  // Made by hand with the key: an issuer that forgot the claims.
  const auto hand = [&](const boost::json::object& c) {
    const auto input = detail::base64url_encode(R"({"alg":"HS256","typ":"at+jwt","kid":"k1"})") + "." +
                       detail::base64url_encode(boost::json::serialize(c));
    return input + "." + hs256(old_secret, input);
  };
  boost::json::object claims{{"iss", "cqrs-engine"}, {"aud", "cqrs-api"}, {"sub", "u"}, {"exp", now_s + 60}};
  CHECK(refusal_of(verifier.verify(hand(claims), now)) == "issued-at (iat) missing");
  claims["iat"] = now_s;
  CHECK(refusal_of(verifier.verify(hand(claims), now)) == "token id (jti) missing");
  claims["jti"] = "abc";
  CHECK(accepted(verifier.verify(hand(claims), now)).subject == "u");
}

}  // TEST_SUITE

TEST_CASE("login throttle: five failures are free, then 1 s doubling per failure up to 5 minutes") {
  using cqrs::gateway::user::login_throttle;
  login_throttle throttle;
  const auto t0 = login_throttle::clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 4; ++i) throttle.failed("bi", t0);
  CHECK_FALSE(throttle.wait("bi", t0).has_value());
  throttle.failed("bi", t0);
  CHECK(throttle.wait("bi", t0) == 1s);
  CHECK_FALSE(throttle.wait("bi", t0 + 1s).has_value());
  throttle.failed("bi", t0 + 1s);
  CHECK(throttle.wait("bi", t0 + 1s) == 2s);
  for (int i = 0; i < 20; ++i) throttle.failed("bi", t0 + 1s);
  CHECK(throttle.wait("bi", t0 + 1s) == 300s);
  CHECK_FALSE(throttle.wait("other", t0 + 1s).has_value());
  throttle.succeeded("bi");
  CHECK_FALSE(throttle.wait("bi", t0 + 1s).has_value());
}

TEST_CASE("CQRS_JWT_KEYS: kid=secret pairs, the first signing; malformed lists are refused naming the variable") {
  const auto load = [](std::string keys) {
    return cqrs::gateway::load_auth_config(cqrs::core::settings_source({{"CQRS_JWT_KEYS", std::move(keys)}}, {}));
  };
  const auto config = load("k2=" + new_secret + ",k1=" + old_secret);
  REQUIRE(config.keys.size() == 2);
  CHECK(config.keys[0].id == "k2");
  CHECK(config.keys[1].secret == old_secret);
  CHECK(config.jwt_secret == new_secret);  // tokens without a kid: the signing key
  CHECK(config.access_token_ttl == 900s);
  for (const auto* bad : {"k1", "=secretsecretsecretsecretsecretsecret", "k1=short", "k 1=secretsecretsecretsecretsecretsecret"}) {
    INFO(bad);
    CHECK_THROWS_WITH_AS(load(bad), doctest::Contains("CQRS_JWT_KEYS"), cqrs::core::config_error);
  }
}
