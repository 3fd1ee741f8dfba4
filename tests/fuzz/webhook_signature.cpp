// Harness webhook_signature: the receiver's check of a signed webhook
// (core/security/webhook_signature.hpp: the Provider-Signature header's parsing, the timestamp's
// tolerance, the constant-time HMAC comparison, the replay cache). The input is
// "<header>" LF "<body>"; its first byte picks how the header is used:
//   even: as a sender (or an attacker) wrote it;
//   odd:  replaced by the harness's own signature of the body at the header's timestamp (or a
//         fixed one), so that what lies behind a valid signature (tolerance, cache) is reached too.
// What must hold, besides the sanitizers: no exception; `valid` only for a header whose v1= is the
// HMAC of its t= and the body, within the tolerance; the same valid delivery a second time is
// `replayed`; the body with one byte changed is never `valid`; the harness's own signature of a
// body always verifies at its own time.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/security/webhook_signature.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace cqrs::fuzz {
namespace {

using namespace cqrs::core::security;

constexpr std::string_view secret = "fuzz-secret-0123456789abcdef0123";  // make_corpus.py
constexpr std::int64_t now = 1796621979;  // the signing time of the corpus's webhooks
constexpr std::chrono::seconds tolerance{300};

// The number after the t= at `at`, if any: leading zeros skipped, then at most 18 significant
// digits (more cannot be a time within the tolerance, so such a value reads as out of range).
std::optional<std::int64_t> number_at(std::string_view header, std::size_t at) {
  auto i = at + 2;
  const auto is_digit = [&](std::size_t k) { return k < header.size() && header[k] >= '0' && header[k] <= '9'; };
  if (!is_digit(i)) return std::nullopt;
  while (is_digit(i) && header[i] == '0') ++i;
  std::int64_t value = 0;
  for (std::size_t digits = 0; is_digit(i); ++i, ++digits) {
    if (digits == 18) return -1;
    value = value * 10 + (header[i] - '0');
  }
  return value;
}

// The first t= value of a header, the harness's own reading of it, else `now`.
std::int64_t timestamp_of(std::string_view header) {
  const auto at = header.find("t=");
  const auto value = at == std::string_view::npos ? std::nullopt : number_at(header, at);
  return value && *value >= 0 ? *value : now;
}

std::string verdict_text(webhook_verdict v) { return std::string(to_string(v)); }

// `valid` proves the header carries the body's HMAC at one of its t= values, within the tolerance
// (read here independently of the parser under test).
void check_valid_is_signed(std::string_view header, std::string_view body) {
  bool signed_here = false;
  for (auto at = header.find("t="); at != std::string_view::npos && !signed_here; at = header.find("t=", at + 1)) {
    const auto t = number_at(header, at);
    if (!t || *t < now - tolerance.count() || *t > now + tolerance.count()) continue;
    signed_here = header.find(webhook_hmac(secret, *t, body)) != std::string_view::npos;
  }
  expect(signed_here, "a header without the body's HMAC within the tolerance verified", std::string(header));
}

void check(std::string_view header, std::string_view body) {
  webhook_replay_cache cache(4);
  const auto first = verify_webhook(secret, header, body, now, tolerance, &cache);
  expect(first != webhook_verdict::replayed && first != webhook_verdict::cache_full,
         "a first delivery was refused by an empty cache", verdict_text(first));
  if (first == webhook_verdict::valid) {
    check_valid_is_signed(header, body);
    const auto again = verify_webhook(secret, header, body, now, tolerance, &cache);
    expect(again == webhook_verdict::replayed, "a valid delivery sent twice was not refused as replayed",
           verdict_text(again));
    expect(verify_webhook(secret, header, body, now, tolerance) == webhook_verdict::valid,
           "the verdict without a cache differs", std::string(header));
    if (!body.empty()) {
      std::string altered(body);
      altered[altered.size() / 2] = static_cast<char>(altered[altered.size() / 2] ^ 0x01);
      expect(verify_webhook(secret, header, altered, now, tolerance) != webhook_verdict::valid,
             "an altered body verified", std::string(header));
    }
  }
  if (verify_webhook(secret, header, body, now, tolerance) == webhook_verdict::malformed) {
    expect(first == webhook_verdict::malformed, "a header is malformed only sometimes", std::string(header));
  }
}

void check_own_signature(std::int64_t timestamp, std::string_view body) {
  const auto header = sign_webhook(secret, timestamp, body);
  const auto verdict = verify_webhook(secret, header, body, timestamp, tolerance);
  expect(verdict == webhook_verdict::valid, "a signature made by sign_webhook did not verify at its time",
         header + " " + verdict_text(verdict));
  check(header, body);
}

}  // namespace
}  // namespace cqrs::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto split = rest.find('\n');
  const auto header = rest.substr(0, split);
  const auto body = split == std::string_view::npos ? std::string_view{} : rest.substr(split + 1);
  if (data[0] % 2 == 0) {
    cqrs::fuzz::check(header, body);
  } else {
    cqrs::fuzz::check_own_signature(cqrs::fuzz::timestamp_of(header), body);
  }
  return 0;
}
