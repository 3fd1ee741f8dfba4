#include <doctest/doctest.h>

#include <set>
#include <string>

#include "core/config.hpp"
#include "core/security/refresh_token.hpp"
#include "core/security/security_config.hpp"
#include "tests/unit/security_support.hpp"

using cqrs::core::config_error;
using cqrs::core::settings_source;
using namespace cqrs::core::security;

TEST_CASE("refresh tokens are 43 characters of base64url; only their 64-hex-digit hash is kept") {
  std::set<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    const auto fresh = generate_refresh_token();
    CHECK(fresh.token.size() == 43);
    CHECK(fresh.hash.size() == 64);
    CHECK(fresh.hash.find(fresh.token) == std::string::npos);
    CHECK(refresh_token_hash(fresh.token).value() == fresh.hash);
    tokens.insert(fresh.token);
  }
  CHECK(tokens.size() == 100);
  CHECK(refresh_token_hash("").code() == errc::refresh_token_malformed);
  CHECK(refresh_token_hash(std::string(43, '!')).code() == errc::refresh_token_malformed);
  CHECK(refresh_token_hash(std::string(44, 'A')).code() == errc::refresh_token_malformed);
  CHECK(new_token_family().size() == 32);
  CHECK(new_token_family() != new_token_family());
}

TEST_CASE("every refusal code has its own stable name") {
  std::set<std::string_view> names;
  for (int code = static_cast<int>(errc::email_empty); code <= static_cast<int>(errc::refresh_token_malformed); ++code) {
    const auto name = to_string(static_cast<errc>(code));
    CHECK(name != "unknown");
    names.insert(name);
  }
  CHECK(names.size() == static_cast<std::size_t>(errc::refresh_token_malformed));
}

namespace {

std::string blamed(std::map<std::string, std::string> env) {
  try {
    (void)load_pii_config(settings_source(std::move(env), {}));
    return "";
  } catch (const config_error& e) {
    return e.variable();
  }
}

}  // namespace

TEST_CASE("PII settings: absent means no PII; once the master key is named, the rest is required") {
  CHECK_FALSE(load_pii_config(settings_source({}, {})).has_value());
  const std::map<std::string, std::string> full = {{"CQRS_PII_MASTER_KEY_FILE", "/k/master"},
                                                   {"CQRS_PII_INDEX_KEY_FILE", "/k/index"},
                                                   {"CQRS_PII_KEYSTORE_URL", "postgresql://h/keys"},
                                                   {"CQRS_PG_URL", "postgresql://h/cqrs"}};
  const auto config = load_pii_config(settings_source(full, {}));
  REQUIRE(config.has_value());
  CHECK(config->keystore_url == "postgresql://h/keys");
  CHECK(config->vault.cache_ttl == std::chrono::milliseconds(30'000));
  auto without_index = full;
  without_index.erase("CQRS_PII_INDEX_KEY_FILE");
  CHECK(blamed(without_index) == "CQRS_PII_INDEX_KEY_FILE");
  auto without_store = full;
  without_store.erase("CQRS_PII_KEYSTORE_URL");
  CHECK(blamed(without_store) == "CQRS_PII_KEYSTORE_URL");
  auto same_database = full;
  same_database["CQRS_PII_KEYSTORE_URL"] = "postgresql://h/cqrs";
  CHECK(blamed(same_database) == "CQRS_PII_KEYSTORE_URL");
  auto bad_cache = full;
  bad_cache["CQRS_PII_KEY_CACHE_MS"] = "-1";
  CHECK(blamed(bad_cache) == "CQRS_PII_KEY_CACHE_MS");
}

TEST_CASE("password settings refuse argon2id below OWASP's minimum") {
  const auto defaults = load_password_config(settings_source({}, {}));
  CHECK(defaults.argon2.mem_limit == 19ULL * 1024 * 1024);
  CHECK(defaults.argon2.ops_limit == 2);
  CHECK(defaults.pool.threads == 0);
  CHECK(defaults.pool.queue_limit == 64);
  CHECK_THROWS_AS((void)load_password_config(settings_source({{"CQRS_ARGON2_MEMORY_KIB", "8192"}}, {})), config_error);
  CHECK_THROWS_AS((void)load_password_config(settings_source({{"CQRS_ARGON2_PASSES", "1"}}, {})), config_error);
  CHECK(load_password_config(settings_source({{"CQRS_ARGON2_MEMORY_KIB", "65536"}}, {})).argon2.mem_limit ==
        64ULL * 1024 * 1024);
}

TEST_CASE("the key files are read and the index key may not be the master key") {
  const cqrs::tests::scratch_dir dir;
  const auto master = dir.path() / "master";
  const auto index = dir.path() / "index";
  const auto master_key = write_new_key_file(master);
  (void)write_new_key_file(index);
  pii_config config;
  config.master_key_file = master;
  config.index_key_file = index;
  const auto keys = read_pii_keys(config);
  CHECK(keys.ring.current_id() == master_key.id());
  config.index_key_file = master;
  try {
    (void)read_pii_keys(config);
    FAIL("the master key was accepted as the index key");
  } catch (const config_error& e) {
    CHECK(e.variable() == "CQRS_PII_INDEX_KEY_FILE");
  }
  config.index_key_file = index;
  config.master_key_file = dir.path() / "missing";
  try {
    (void)read_pii_keys(config);
    FAIL("a missing key file was accepted");
  } catch (const config_error& e) {
    CHECK(e.variable() == "CQRS_PII_MASTER_KEY_FILE");
  }
}
