#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "core/security/pii_cipher.hpp"
#include "core/security/secret.hpp"
#include "tests/unit/security_support.hpp"

using namespace cqrs::core::security;

namespace {

const field_context alice_email{"user-alice", "email"};

}  // namespace

TEST_CASE("a sealed field opens with its key, stream and field, and reads as versioned ASCII") {
  const auto key = data_key::generate();
  const auto sealed = seal_field(key, alice_email, "alice@example.com");
  CHECK(sealed.starts_with("pii1." + key.id + "."));
  CHECK(sealed.find("alice") == std::string::npos);
  for (const char c : sealed) CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'));
  const auto opened = open_field(key, alice_email, sealed);
  REQUIRE(opened.ok());
  CHECK(opened.value() == "alice@example.com");
  CHECK(sealed_key_id(sealed).value() == key.id);
}

TEST_CASE("sealing the same text twice gives different texts (a random nonce each time)") {
  const auto key = data_key::generate();
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(seal_field(key, alice_email, "same"));
  CHECK(seen.size() == 50);
}

TEST_CASE("an empty and a long plaintext round-trip") {
  const auto key = data_key::generate();
  const std::string long_text(100'000, 'x');
  CHECK(open_field(key, alice_email, seal_field(key, alice_email, "")).value().empty());
  CHECK(open_field(key, alice_email, seal_field(key, alice_email, long_text)).value() == long_text);
}

TEST_CASE("a field does not open under another stream or another field name") {
  const auto key = data_key::generate();
  const auto sealed = seal_field(key, alice_email, "alice@example.com");
  CHECK(open_field(key, {"user-bob", "email"}, sealed).code() == errc::sealed_not_authentic);
  CHECK(open_field(key, {"user-alice", "name"}, sealed).code() == errc::sealed_not_authentic);
  // Length-prefixed associated data: moving a character between stream and field changes it.
  const auto split = seal_field(key, {"ab", "c"}, "x");
  CHECK(open_field(key, {"a", "bc"}, split).code() == errc::sealed_not_authentic);
}

TEST_CASE("a field sealed under another data key names that key and does not open") {
  const auto key = data_key::generate();
  const auto other = data_key::generate();
  const auto sealed = seal_field(other, alice_email, "alice@example.com");
  CHECK(open_field(key, alice_email, sealed).code() == errc::sealed_wrong_key);
  // Same id, other key bytes: the tag check refuses it.
  const data_key impostor{key.id, other.key};
  CHECK(open_field(key, alice_email, seal_field(impostor, alice_email, "x")).code() == errc::sealed_not_authentic);
}

TEST_CASE("an altered sealed text is refused, never thrown") {
  const auto key = data_key::generate();
  const auto sealed = seal_field(key, alice_email, "alice@example.com");
  for (std::size_t at = 0; at < sealed.size(); ++at) {
    auto altered = sealed;
    altered[at] = altered[at] == 'A' ? 'B' : 'A';
    const auto opened = open_field(key, alice_email, altered);
    CHECK_FALSE(opened.ok());
  }
}

TEST_CASE("malformed texts are refused as malformed") {
  const auto key = data_key::generate();
  for (const std::string& text : std::vector<std::string>{"", "pii1", "pii1.", "pii1..", "pii2." + key.id + ".AAAA", "pii1.XYZ.AAAA",
                                 "pii1." + key.id + ".!!!", "pii1." + key.id + ".AAAA", "plain text",
                                 std::string("pii1.") + key.id + std::string(".\0A", 3)}) {
    CAPTURE(text);
    CHECK(open_field(key, alice_email, text).code() == errc::sealed_malformed);
  }
}

TEST_CASE("a data key wrapped by the master key unwraps only for its subject and id") {
  const master_keyring ring(key256::random());
  const auto key = data_key::generate();
  const auto wrapped = wrap_data_key(ring, "alice", key);
  CHECK(wrapped.starts_with("wk1." + ring.current_id() + "."));
  CHECK(wrapped_master_id(wrapped) == ring.current_id());
  const auto back = unwrap_data_key(ring, "alice", key.id, wrapped);
  CHECK(back.key.same_as(key.key));
  CHECK_THROWS_AS((void)unwrap_data_key(ring, "bob", key.id, wrapped), crypto_error);
  CHECK_THROWS_AS((void)unwrap_data_key(ring, "alice", data_key::generate().id, wrapped), crypto_error);
  CHECK_THROWS_AS((void)unwrap_data_key(master_keyring(key256::random()), "alice", key.id, wrapped), crypto_error);
  CHECK_THROWS_AS((void)unwrap_data_key(ring, "alice", key.id, "wk1.zz.AAAA"), crypto_error);
}

TEST_CASE("a keyring unwraps with an older key and wraps with the current one") {
  const auto old_key = key256::random();
  const master_keyring old_ring(old_key);
  const auto key = data_key::generate();
  const auto wrapped = wrap_data_key(old_ring, "alice", key);
  const master_keyring ring(key256::random(), {old_key});
  CHECK(ring.current_id() != old_ring.current_id());
  CHECK(unwrap_data_key(ring, "alice", key.id, wrapped).key.same_as(key.key));
  CHECK(wrapped_master_id(wrap_data_key(ring, "alice", key)) == ring.current_id());
}

TEST_CASE("key ids are stable for a key and differ between keys") {
  const auto key = key256::random();
  CHECK(key.id() == key256(key.bytes()).id());
  CHECK(key.id().size() == 16);
  CHECK(key.id() != key256::random().id());
}

TEST_CASE("key files: base64url, base64 and hex are read; anything else is refused") {
  const cqrs::tests::scratch_dir dir;
  const auto key = key256::random();
  const std::string raw(reinterpret_cast<const char*>(key.data()), key256::size);
  CHECK(read_key_file(dir.file("url", base64url_encode(raw) + "\n")).same_as(key));
  CHECK(read_key_file(dir.file("hex", "  " + hex_encode(raw) + "\r\n")).same_as(key));
  const auto standard = base64url_encode(raw);  // 43 characters; the standard form pads to 44
  std::string padded = standard + "=";
  for (auto& c : padded) c = c == '-' ? '+' : c == '_' ? '/' : c;
  CHECK(read_key_file(dir.file("b64", padded)).same_as(key));
  CHECK_THROWS_AS((void)read_key_file(dir.file("short", base64url_encode(raw.substr(0, 31)))), key_file_error);
  CHECK_THROWS_AS((void)read_key_file(dir.file("empty", "")), key_file_error);
  CHECK_THROWS_AS((void)read_key_file(dir.path() / "missing"), key_file_error);
  const auto world = std::filesystem::perms::owner_read | std::filesystem::perms::others_read;
  CHECK_THROWS_WITH_AS((void)read_key_file(dir.file("world", base64url_encode(raw), world)),
                       doctest::Contains("readable by every user"), key_file_error);
}

TEST_CASE("a new key file is private to its owner, readable back, and never overwrites") {
  const cqrs::tests::scratch_dir dir;
  const auto path = dir.path() / "master.key";
  const auto key = write_new_key_file(path);
  const auto perms = std::filesystem::status(path).permissions();
  CHECK(perms == (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK(read_key_file(path).same_as(key));
  CHECK_THROWS_AS((void)write_new_key_file(path), key_file_error);
  CHECK(read_key_file(path).same_as(key));
}

TEST_CASE("base64url round-trips and refuses padding and foreign characters") {
  for (const std::string& bytes : std::vector<std::string>{std::string(), std::string("a"), std::string("\0\xff\x10", 3), std::string(100, 'z')}) {
    CHECK(base64url_decode(base64url_encode(bytes)) == bytes);
  }
  CHECK_FALSE(base64url_decode("YQ==").has_value());
  CHECK_FALSE(base64url_decode("a+b/").has_value());
}

TEST_CASE("any text given to open is answered with a refusal, never an exception (random texts)") {
  const auto key = data_key::generate();
  const auto valid = seal_field(key, alice_email, "alice@example.com");
  for (int i = 0; i < 5000; ++i) {
    const auto noise = random_bytes(static_cast<std::size_t>(i % 97));
    // Pure noise, noise after a valid prefix, and a valid text cut short.
    for (const auto& text : {noise, "pii1." + key.id + "." + noise, valid.substr(0, static_cast<std::size_t>(i) % valid.size())}) {
      result<std::string> opened = refusal{errc::sealed_malformed, ""};
      CHECK_NOTHROW(opened = open_field(key, alice_email, text));
      CHECK_FALSE(opened.ok());
    }
  }
}

TEST_CASE("sealing and opening a field costs microseconds") {
  const auto key = data_key::generate();
  constexpr int rounds = 20'000;
  const auto start = std::chrono::steady_clock::now();
  std::size_t opened = 0;
  for (int i = 0; i < rounds; ++i) {
    opened += open_field(key, alice_email, seal_field(key, alice_email, "alice@example.com")).ok() ? 1 : 0;
  }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / rounds;
  CHECK(opened == rounds);
  MESSAGE("AES-256-GCM seal + open of one field: " << us << " us");
}
