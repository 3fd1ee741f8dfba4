// HS256 tokens: what verifies, and every way a token is refused. Tokens the verifier must refuse
// are built by hand here (header and payload JSON, signed or not), never by sign().

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gateway/jwt.hpp"
#include "tests/unit/jwt_support.hpp"

namespace {

using namespace std::chrono_literals;
using cqrs::gateway::auth_config;
using cqrs::gateway::jwt_verifier;
using cqrs::gateway::principal;
using cqrs::gateway::token_claims;
using cqrs::gateway::token_refusal;
namespace detail = cqrs::gateway::detail;
using cqrs::tests::accepted;
using cqrs::tests::hs256;
using cqrs::tests::refusal_of;

constexpr std::string_view secret = "test-secret-of-reasonable-length";
constexpr std::int64_t now_s = 1'800'000'000;
constexpr std::chrono::system_clock::time_point now{std::chrono::seconds{now_s}};

auth_config config(std::string key = std::string(secret)) {
  auth_config c;
  c.jwt_secret = std::move(key);
  return c;  // issuer "cqrs-engine", audience "cqrs-api", leeway 30 s
}

// header.payload, base64url-encoded, signed with HS256 under `key` whatever the header claims.
std::string hand_made(std::string_view header, std::string_view payload, std::string_view key = secret) {
  const auto input = detail::base64url_encode(header) + "." + detail::base64url_encode(payload);
  return input + "." + hs256(key, input);
}

// Valid claims for `now`, with `changes` set over them.
std::string claims_json(const boost::json::object& changes = {}) {
  boost::json::object claims{{"iss", "cqrs-engine"}, {"aud", "cqrs-api"}, {"sub", "alice"}, {"exp", now_s + 60}};
  for (const auto& [name, value] : changes) claims[name] = value;
  return boost::json::serialize(claims);
}

constexpr std::string_view hs256_header = R"({"alg":"HS256","typ":"JWT"})";

std::string signed_token(std::chrono::seconds ttl = 3600s, std::chrono::system_clock::time_point at = now) {
  return jwt_verifier(config()).sign(token_claims{"alice", {"admin", "ops"}, ttl}, at);
}

std::string with_part(const std::string& token, int index, const std::string& replacement) {
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  if (index == 0) return replacement + token.substr(first);
  if (index == 1) return token.substr(0, first + 1) + replacement + token.substr(second);
  return token.substr(0, second + 1) + replacement;
}

}  // namespace

TEST_SUITE("jwt") {

TEST_CASE("jwt: a signed token verifies with its subject and roles") {
  const auto who = accepted(jwt_verifier(config()).verify(signed_token(), now));
  CHECK(who.subject == "alice");
  CHECK(who.roles == std::vector<std::string>{"admin", "ops"});
}

TEST_CASE("jwt: a single role claim is read as one role") {
  const auto who = accepted(jwt_verifier(config()).verify(hand_made(hs256_header, claims_json({{"role", "admin"}})), now));
  CHECK(who.roles == std::vector<std::string>{"admin"});
}

TEST_CASE("jwt: a token without roles verifies with none") {
  CHECK(accepted(jwt_verifier(config()).verify(hand_made(hs256_header, claims_json()), now)).roles.empty());
}

TEST_CASE("jwt: a tampered payload is refused") {
  const auto token = signed_token();
  const auto forged = with_part(token, 1, detail::base64url_encode(claims_json({{"roles", boost::json::array{"admin"}}})));
  CHECK(refusal_of(jwt_verifier(config()).verify(forged, now)) == "bad signature");
}

TEST_CASE("jwt: a tampered signature is refused") {
  auto token = signed_token();
  const auto at = token.rfind('.') + 1;
  token[at] = token[at] == 'A' ? 'B' : 'A';
  CHECK(refusal_of(jwt_verifier(config()).verify(token, now)) == "bad signature");
}

TEST_CASE("jwt: a signature with non-zero trailing bits is refused although its bytes would match") {
  auto token = signed_token();
  // 32 bytes encode as 43 characters whose last carries 2 unused bits; setting one of them
  // leaves the decoded bytes alone if the decoder were lax.
  auto& last = token.back();
  const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  last = alphabet[alphabet.find(last) | 1];
  CHECK(refusal_of(jwt_verifier(config()).verify(token, now)) == "bad signature");
}

TEST_CASE("jwt: a token signed with another secret is refused") {
  const auto token = hand_made(hs256_header, claims_json(), "some-other-secret");
  CHECK(refusal_of(jwt_verifier(config()).verify(token, now)) == "bad signature");
}

TEST_CASE("jwt: alg none is refused, with or without a signature") {
  const auto unsigned_token =
      detail::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + detail::base64url_encode(claims_json()) + ".";
  CHECK(refusal_of(jwt_verifier(config()).verify(unsigned_token, now)) == "algorithm not allowed: none");
  const auto signed_none = hand_made(R"({"alg":"none"})", claims_json());
  CHECK(refusal_of(jwt_verifier(config()).verify(signed_none, now)) == "algorithm not allowed: none");
}

TEST_CASE("jwt: HS384 and RS256 are refused even when the HS256 signature is right") {
  for (const std::string alg : {"HS384", "RS256", "hs256", "HS256 "}) {
    CAPTURE(alg);
    const auto token = hand_made(R"({"alg":")" + alg + R"(","typ":"JWT"})", claims_json());
    CHECK(refusal_of(jwt_verifier(config()).verify(token, now)) == "algorithm not allowed: " + alg);
  }
}

TEST_CASE("jwt: a header without alg, with a non-string alg, another typ or crit is refused") {
  const jwt_verifier verifier(config());
  CHECK(refusal_of(verifier.verify(hand_made(R"({"typ":"JWT"})", claims_json()), now)) == "algorithm missing");
  CHECK(refusal_of(verifier.verify(hand_made(R"({"alg":256})", claims_json()), now)) == "algorithm is not a string");
  CHECK(refusal_of(verifier.verify(hand_made(R"({"alg":"HS256","typ":"JWE"})", claims_json()), now)) ==
        "token type not allowed");
  CHECK(refusal_of(verifier.verify(hand_made(R"({"alg":"HS256","crit":["exp"]})", claims_json()), now)) ==
        "critical header extensions are not supported");
}

TEST_CASE("jwt: an expired token is refused, and one expired within the leeway accepted") {
  const jwt_verifier verifier(config());
  const auto token = signed_token(60s);  // exp = now + 60, leeway 30 s
  CHECK(accepted(verifier.verify(token, now + 89s)).subject == "alice");
  CHECK(refusal_of(verifier.verify(token, now + 90s)) == "expired");
  CHECK(refusal_of(verifier.verify(token, now + 24h)) == "expired");
}

TEST_CASE("jwt: a token not valid before a future time is refused beyond the leeway") {
  const jwt_verifier verifier(config());
  CHECK(refusal_of(verifier.verify(signed_token(3600s, now + 120s), now)) == "not yet valid");
  CHECK(accepted(verifier.verify(signed_token(3600s, now + 20s), now)).subject == "alice");
}

TEST_CASE("jwt: a token without exp, or with a non-numeric exp, is refused") {
  const jwt_verifier verifier(config());
  const auto no_exp = hand_made(hs256_header, R"({"iss":"cqrs-engine","aud":"cqrs-api","sub":"alice"})");
  CHECK(refusal_of(verifier.verify(no_exp, now)) == "expiry (exp) missing");
  const auto text_exp = hand_made(hs256_header, R"({"iss":"cqrs-engine","aud":"cqrs-api","sub":"a","exp":"1"})");
  CHECK(refusal_of(verifier.verify(text_exp, now)) == "expiry (exp) is not a valid date");
}

// A fuzzing finding (tests/fuzz/jwt.cpp): an int64 exp beyond the bound on dates overflowed when
// the leeway was added.
TEST_CASE("jwt: a date beyond the bound is not a valid date, whichever form the number takes") {
  const jwt_verifier verifier(config());
  for (const auto* exp : {"9223372036854775807", "10000000000000001", "18446744073709551615", "1e17"}) {
    CAPTURE(exp);
    const auto token = hand_made(hs256_header, R"({"iss":"cqrs-engine","aud":"cqrs-api","sub":"a","exp":)" +
                                                   std::string(exp) + "}");
    CHECK(refusal_of(verifier.verify(token, now)) == "expiry (exp) is not a valid date");
  }
  const auto far_nbf = hand_made(hs256_header, claims_json({{"nbf", -9223372036854775807LL - 1}}));
  CHECK(refusal_of(verifier.verify(far_nbf, now)) == "not-before (nbf) is not a valid date");
  const auto at_bound = hand_made(hs256_header, claims_json({{"exp", 10'000'000'000'000'000LL}}));
  CHECK(accepted(verifier.verify(at_bound, now)).subject == "alice");
}

TEST_CASE("jwt: fractional dates are accepted") {
  const auto token = hand_made(hs256_header, claims_json({{"nbf", 1799999999.5}, {"iat", 1799999999.5}}));
  CHECK(accepted(jwt_verifier(config()).verify(token, now)).subject == "alice");
}

TEST_CASE("jwt: a token from another issuer is refused") {
  auto other = config();
  other.issuer = "someone-else";
  CHECK(refusal_of(jwt_verifier(other).verify(signed_token(), now)) == "wrong issuer: cqrs-engine");
  const auto no_iss = hand_made(hs256_header, R"({"aud":"cqrs-api","sub":"a","exp":)" + std::to_string(now_s + 60) + "}");
  CHECK(refusal_of(jwt_verifier(config()).verify(no_iss, now)) == "issuer (iss) missing");
}

TEST_CASE("jwt: a token for another audience is refused") {
  auto other = config();
  other.audience = "billing-api";
  CHECK(refusal_of(jwt_verifier(other).verify(signed_token(), now)) == "wrong audience");
  const auto not_ours = hand_made(hs256_header, claims_json({{"aud", boost::json::array{"billing-api"}}}));
  CHECK(refusal_of(jwt_verifier(config()).verify(not_ours, now)) == "wrong audience");
}

TEST_CASE("jwt: an audience array that contains ours is accepted") {
  const auto token = hand_made(hs256_header, claims_json({{"aud", boost::json::array{"billing-api", "cqrs-api"}}}));
  CHECK(accepted(jwt_verifier(config()).verify(token, now)).subject == "alice");
}

TEST_CASE("jwt: a token without a subject, or with malformed roles, is refused") {
  const jwt_verifier verifier(config());
  CHECK(refusal_of(verifier.verify(hand_made(hs256_header, claims_json({{"sub", ""}})), now)) ==
        "subject (sub) missing");
  CHECK(refusal_of(verifier.verify(hand_made(hs256_header, claims_json({{"roles", "admin"}})), now)) ==
        "roles is not an array of strings");
  CHECK(refusal_of(verifier.verify(hand_made(hs256_header, claims_json({{"roles", boost::json::array{"admin", 1}}})), now)) ==
        "roles is not an array of strings");
}

TEST_CASE("jwt: malformed tokens are refused") {
  const jwt_verifier verifier(config());
  const auto good = signed_token();
  CHECK(refusal_of(verifier.verify("", now)).starts_with("malformed token"));
  CHECK(refusal_of(verifier.verify(good.substr(0, good.rfind('.')), now)).starts_with("malformed token"));
  CHECK(refusal_of(verifier.verify(good + ".x", now)).starts_with("malformed token"));
  CHECK(refusal_of(verifier.verify(with_part(good, 0, "!!!"), now)).starts_with("malformed token: header"));
  CHECK(refusal_of(verifier.verify(with_part(good, 0, detail::base64url_encode("not json")), now))
            .starts_with("malformed token: header"));
  CHECK(refusal_of(verifier.verify(with_part(good, 0, detail::base64url_encode("[1]")), now))
            .starts_with("malformed token: header"));
  const auto not_json_payload = hand_made(hs256_header, "{\"sub\":");
  CHECK(refusal_of(verifier.verify(not_json_payload, now)) == "malformed token: payload is not base64url-encoded JSON");
  CHECK(refusal_of(verifier.verify(std::string(9000, 'a'), now)) == "malformed token: too long");
}

TEST_CASE("jwt: padded base64 parts are refused, even when the signature covers the padding") {
  const auto header = detail::base64url_encode(R"({"alg":"HS256" })");  // 16 bytes: 22 characters
  REQUIRE(header.size() % 4 == 2);
  const auto input = header + "==." + detail::base64url_encode(claims_json());
  const auto token = input + "." + hs256(secret, input);
  CHECK(refusal_of(jwt_verifier(config()).verify(token, now)).starts_with("malformed token: header"));
}

TEST_CASE("jwt: an empty secret refuses every token and signs none") {
  const jwt_verifier verifier(config(""));
  CHECK(refusal_of(verifier.verify(signed_token(), now)) == "no secret configured");
  CHECK(refusal_of(verifier.verify(hand_made(hs256_header, claims_json(), ""), now)) == "no secret configured");
  CHECK_THROWS_AS(verifier.sign(token_claims{"alice", {}, 60s}, now), std::invalid_argument);
}

TEST_CASE("jwt: base64url matches RFC 4648's vectors in the URL alphabet, unpadded") {
  CHECK(detail::base64url_encode("") == "");
  CHECK(detail::base64url_encode("f") == "Zg");
  CHECK(detail::base64url_encode("fo") == "Zm8");
  CHECK(detail::base64url_encode("foo") == "Zm9v");
  CHECK(detail::base64url_encode("foobar") == "Zm9vYmFy");
  CHECK(detail::base64url_encode("\xfb\xff\xbf") == "-_-_");
  CHECK(detail::base64url_decode("Zm9vYmE") == std::optional<std::string>("fooba"));
}

TEST_CASE("jwt: base64url round-trips every byte value at every length remainder") {
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  for (std::size_t cut = 0; cut < 3; ++cut) {
    const auto input = bytes.substr(cut);
    CAPTURE(cut);
    const auto text = detail::base64url_encode(input);
    CHECK(text.find_first_of("+/=") == std::string::npos);
    CHECK(detail::base64url_decode(text) == std::optional<std::string>(input));
  }
}

TEST_CASE("jwt: base64url decoding refuses padding, foreign characters, impossible lengths and stray bits") {
  CHECK_FALSE(detail::base64url_decode("Zg==").has_value());
  CHECK_FALSE(detail::base64url_decode("+/8").has_value());
  CHECK_FALSE(detail::base64url_decode("Zm9v Yg").has_value());
  CHECK_FALSE(detail::base64url_decode("Zm9vY").has_value());  // 4n+1 characters
  CHECK_FALSE(detail::base64url_decode("Zh").has_value());     // "Zg" with a stray low bit
  CHECK(detail::base64url_decode("").has_value());
}

}  // TEST_SUITE

TEST_CASE("a remembered token is checked for its times at every use, and a changed byte is verified afresh") {
  const jwt_verifier verifier(config());
  const auto token = hand_made(hs256_header, claims_json({{"nbf", now_s - 100}, {"exp", now_s + 60}}));
  REQUIRE(std::holds_alternative<principal>(verifier.verify(token, now)));
  CHECK(std::get<principal>(verifier.verify(token, now + 10s)).subject == "alice");  // remembered
  // Past exp (and the 30 s leeway): refused for the same reason a fresh verifier gives.
  CHECK(refusal_of(verifier.verify(token, now + 90s)) == "expired");
  CHECK(refusal_of(verifier.verify(token, now + 90s)) == refusal_of(jwt_verifier(config()).verify(token, now + 90s)));
  // Before nbf (and the leeway), although it was verified later on.
  CHECK(refusal_of(verifier.verify(token, now - 200s)) == "not yet valid");
  // One byte of the signature changed: not the remembered token.
  auto forged = token;
  auto& byte = forged[forged.size() - 10];  // inside the signature, away from its padding bits
  byte = byte == 'A' ? 'B' : 'A';
  CHECK(refusal_of(verifier.verify(forged, now)) == "bad signature");
  // A copy of the verifier shares what it remembered, and still checks times.
  const jwt_verifier copy = verifier;
  CHECK(std::holds_alternative<principal>(copy.verify(token, now)));
  CHECK(refusal_of(copy.verify(token, now + 90s)) == "expired");
}
