#include <doctest/doctest.h>

#include <string>

#include "core/security/webhook_signature.hpp"

using namespace cqrs::core::security;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view secret = "whsec_test";
constexpr std::string_view body = R"({"id":"evt_1"})";
constexpr std::int64_t at = 1'700'000'000;

}  // namespace

TEST_CASE("a webhook signature is HMAC-SHA-256 over timestamp, dot and body, as openssl dgst computes it") {
  // printf '%s' '1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac whsec_test
  CHECK(webhook_hmac(secret, at, body) == "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925");
  CHECK(sign_webhook(secret, at, body) ==
        "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925");
}

TEST_CASE("a signed webhook verifies within the tolerance, either side of now") {
  const auto header = sign_webhook(secret, at, body);
  CHECK(verify_webhook(secret, header, body, at) == webhook_verdict::valid);
  CHECK(verify_webhook(secret, header, body, at + 300) == webhook_verdict::valid);
  CHECK(verify_webhook(secret, header, body, at - 300) == webhook_verdict::valid);
  CHECK(verify_webhook(secret, header, body, at + 301) == webhook_verdict::stale);
  CHECK(verify_webhook(secret, header, body, at - 301) == webhook_verdict::stale);
  CHECK(verify_webhook(secret, header, body, at + 11, 10s) == webhook_verdict::stale);
}

TEST_CASE("an altered body, timestamp or secret is refused as a bad signature") {
  const auto header = sign_webhook(secret, at, body);
  CHECK(verify_webhook(secret, header, R"({"id":"evt_2"})", at) == webhook_verdict::bad_signature);
  CHECK(verify_webhook("other", header, body, at) == webhook_verdict::bad_signature);
  const auto moved = "t=1700000001," + header.substr(header.find("v1="));
  CHECK(verify_webhook(secret, moved, body, at) == webhook_verdict::bad_signature);
}

TEST_CASE("a header without a timestamp or a 64-hex-digit v1 is malformed; unknown parts are ignored") {
  const auto hmac = webhook_hmac(secret, at, body);
  CHECK(verify_webhook(secret, "", body, at) == webhook_verdict::malformed);
  CHECK(verify_webhook(secret, "v1=" + hmac, body, at) == webhook_verdict::malformed);
  CHECK(verify_webhook(secret, "t=1700000000", body, at) == webhook_verdict::malformed);
  CHECK(verify_webhook(secret, "t=abc,v1=" + hmac, body, at) == webhook_verdict::malformed);
  CHECK(verify_webhook(secret, "t=01700000000,v1=" + hmac, body, at) == webhook_verdict::malformed);
  CHECK(verify_webhook(secret, "t=1700000000,v1=" + hmac.substr(1), body, at) == webhook_verdict::malformed);
  CHECK(verify_webhook(secret, "t=1700000000,v1=" + std::string(64, 'G'), body, at) == webhook_verdict::malformed);
  CHECK(verify_webhook(secret, "v1=" + hmac + ",v0=xyz,t=1700000000", body, at) == webhook_verdict::valid);
}

TEST_CASE("with a replay cache, the same signed request is accepted once") {
  webhook_replay_cache cache;
  const auto header = sign_webhook(secret, at, body);
  CHECK(verify_webhook(secret, header, body, at, 300s, &cache) == webhook_verdict::valid);
  CHECK(verify_webhook(secret, header, body, at + 5, 300s, &cache) == webhook_verdict::replayed);
  // A retry signed anew (a later timestamp) is a different signature and passes.
  CHECK(verify_webhook(secret, sign_webhook(secret, at + 5, body), body, at + 5, 300s, &cache) ==
        webhook_verdict::valid);
  // Past the window the first one is stale, and the cache forgets it.
  CHECK(verify_webhook(secret, header, body, at + 400, 300s, &cache) == webhook_verdict::stale);
  CHECK(verify_webhook(secret, sign_webhook(secret, at + 400, body), body, at + 400, 300s, &cache) ==
        webhook_verdict::valid);
  CHECK(cache.size() == 1);
}

TEST_CASE("forged or stale requests never enter the replay cache, and a full cache fails closed") {
  webhook_replay_cache cache(2);
  CHECK(verify_webhook(secret, sign_webhook("forger", at, body), body, at, 300s, &cache) ==
        webhook_verdict::bad_signature);
  CHECK(verify_webhook(secret, sign_webhook(secret, at - 1000, body), body, at, 300s, &cache) ==
        webhook_verdict::stale);
  CHECK(cache.size() == 0);
  CHECK(verify_webhook(secret, sign_webhook(secret, at, body), body, at, 300s, &cache) == webhook_verdict::valid);
  CHECK(verify_webhook(secret, sign_webhook(secret, at + 1, body), body, at + 1, 300s, &cache) ==
        webhook_verdict::valid);
  CHECK(verify_webhook(secret, sign_webhook(secret, at + 2, body), body, at + 2, 300s, &cache) ==
        webhook_verdict::cache_full);
  CHECK(to_string(webhook_verdict::cache_full) == "cache_full");
}
