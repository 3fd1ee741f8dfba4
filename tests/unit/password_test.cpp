#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/security/password.hpp"

using namespace cqrs::core::security;

namespace {

// libsodium's smallest argon2id cost: makes "old parameters" hashes quickly.
constexpr argon2_params weak{1, 8192};

double median_ms(const std::function<void()>& work) {
  std::vector<double> times;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    work();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[2];
}

}  // namespace

TEST_CASE("new passwords: 12 to 128 code points, valid UTF-8, not the email") {
  CHECK_FALSE(check_new_password("twelve chars", "").has_value());
  CHECK(check_new_password("eleven char", "")->code == errc::password_too_short);
  // 11 emoji are 44 bytes but 11 code points: still too short.
  std::string emoji;
  for (int i = 0; i < 11; ++i) emoji += "\xf0\x9f\x98\x80";
  CHECK(check_new_password(emoji, "")->code == errc::password_too_short);
  CHECK_FALSE(check_new_password(emoji + "\xf0\x9f\x98\x80", "").has_value());
  CHECK_FALSE(check_new_password(std::string(128, 'x'), "").has_value());
  CHECK(check_new_password(std::string(129, 'x'), "")->code == errc::password_too_long);
  CHECK(check_new_password(std::string(100'000, 'x'), "")->code == errc::password_too_long);
  CHECK(check_new_password("abcdefghijk\xff", "")->code == errc::password_invalid_utf8);
  CHECK(check_new_password("alice@example.com", "alice@example.com")->code == errc::password_equals_email);
  CHECK(check_new_password("Alice@EXAMPLE.com", "alice@example.com")->code == errc::password_equals_email);
  CHECK_FALSE(check_new_password("alice@example.com!", "alice@example.com").has_value());
  // No composition rules: all lowercase letters and spaces are fine.
  CHECK_FALSE(check_new_password("correct horse battery staple", "").has_value());
}

TEST_CASE("argon2id hashes carry their parameters and verify only the right password") {
  const password_hasher hasher;
  const auto hash = hasher.hash("correct horse battery staple");
  CHECK(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
  CHECK(hasher.hash("correct horse battery staple") != hash);  // salted
  const auto right = hasher.verify(hash, "correct horse battery staple");
  CHECK(right.match);
  CHECK_FALSE(right.needs_rehash);
  CHECK_FALSE(hasher.verify(hash, "correct horse battery stapler").match);
  CHECK_FALSE(hasher.verify("", "anything at all").match);
  CHECK_FALSE(hasher.verify("$argon2id$garbage", "anything at all").match);
  CHECK_FALSE(hasher.verify(std::string(500, '$'), "anything at all").match);
  CHECK_THROWS_AS((void)hasher.hash("invalid \xff utf-8"), crypto_error);
}

TEST_CASE("a password is NFKC-normalised: full-width and ASCII forms are the same password") {
  const password_hasher hasher(weak);
  const auto hash = hasher.hash("password12345");
  CHECK(hasher.verify(hash, "\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93\xef\xbd\x97\xef\xbd\x8f\xef\xbd\x92"
                            "\xef\xbd\x84\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc\x95")
            .match);
  CHECK_FALSE(hasher.verify(hash, "PASSWORD12345").match);  // case still matters
}

TEST_CASE("a hash made under older parameters verifies and asks to be replaced") {
  const password_hasher old_hasher(weak);
  const password_hasher hasher;
  const auto old_hash = old_hasher.hash("correct horse battery staple");
  const auto result = hasher.verify(old_hash, "correct horse battery staple");
  CHECK(result.match);
  CHECK(result.needs_rehash);
  CHECK_FALSE(hasher.verify(old_hash, "wrong horse battery staple").needs_rehash);  // only once it is right
  const auto stronger = password_hasher(argon2_params{3, 20ULL * 1024 * 1024});
  CHECK(stronger.verify(hasher.hash("correct horse battery staple"), "correct horse battery staple").needs_rehash);
}

TEST_CASE("verifying for an unknown account never matches and costs what a real verification costs") {
  const password_hasher hasher;
  const auto hash = hasher.hash("correct horse battery staple");
  CHECK_FALSE(hasher.verify_unknown("correct horse battery staple").match);
  const auto known = median_ms([&] { (void)hasher.verify(hash, "some other password"); });
  const auto unknown = median_ms([&] { (void)hasher.verify_unknown("some other password"); });
  MESSAGE("verify against a stored hash: " << known << " ms; for an unknown account: " << unknown << " ms");
  // The same argon2id work: a wide band absorbs a shared machine's noise, not a missing hash.
  CHECK(unknown > known / 3);
  CHECK(unknown < known * 3);
}
