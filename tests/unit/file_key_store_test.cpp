#include <doctest/doctest.h>

#include <fstream>
#include <latch>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "core/security/file_key_store.hpp"
#include "core/security/pg_key_store.hpp"
#include "core/security/pii_vault.hpp"
#include "core/security/security_config.hpp"
#include "tests/unit/security_support.hpp"

using namespace cqrs::core::security;

namespace {

wrapped_key candidate(const master_keyring& ring, const std::string& who) {
  const auto key = data_key::generate();
  return wrapped_key{who, key.id, wrap_data_key(ring, who, key)};
}

// Every byte of every file in the directory, to look for a wrapped key left behind.
std::string all_bytes(const std::filesystem::path& directory) {
  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    bytes += text.str();
  }
  return bytes;
}

}  // namespace

TEST_CASE("file key store: created once, loaded back, any subject text") {
  const cqrs::tests::scratch_dir dir;
  const master_keyring ring(key256::random());
  file_key_store store(dir.path() / "keys");
  CHECK((std::filesystem::status(dir.path() / "keys").permissions() & std::filesystem::perms::others_all) ==
        std::filesystem::perms::none);
  for (const std::string& who : std::vector<std::string>{"user-1", "with\nnewline", "../../etc/passwd", std::string("nul\0byte", 8)}) {
    CHECK_FALSE(store.load(who).has_value());
    const auto first = candidate(ring, who);
    CHECK(std::get<wrapped_key>(store.create(first)).wrapped == first.wrapped);
    CHECK(std::get<wrapped_key>(store.create(candidate(ring, who))).wrapped == first.wrapped);
    const auto loaded = std::get<wrapped_key>(*store.load(who));
    CHECK(loaded.subject == who);
    CHECK(loaded.key_id == first.key_id);
  }
}

TEST_CASE("file key store: creators racing for one subject all get the same key") {
  const cqrs::tests::scratch_dir dir;
  const master_keyring ring(key256::random());
  constexpr int creators = 8;
  for (int round = 0; round < 10; ++round) {
    const auto who = "user-" + std::to_string(round);
    std::latch start(creators);
    std::vector<std::string> got(creators);
    std::vector<std::jthread> threads;
    for (int i = 0; i < creators; ++i) {
      threads.emplace_back([&, i] {
        file_key_store store(dir.path());  // one per thread, as separate processes would have
        const auto mine = candidate(ring, who);
        start.arrive_and_wait();
        got[static_cast<std::size_t>(i)] = std::get<wrapped_key>(store.create(mine)).key_id;
      });
    }
    threads.clear();
    CHECK(std::set<std::string>(got.begin(), got.end()).size() == 1);
  }
}

TEST_CASE("file key store: destroying leaves a tombstone and no copy of the wrapped key in the directory") {
  const cqrs::tests::scratch_dir dir;
  const master_keyring ring(key256::random());
  file_key_store store(dir.path());
  const auto original = std::get<wrapped_key>(store.create(candidate(ring, "user-1")));
  (void)store.create(candidate(ring, "user-2"));
  store.destroy("user-1");
  CHECK(std::holds_alternative<key_destroyed>(*store.load("user-1")));
  CHECK(std::holds_alternative<key_destroyed>(store.create(candidate(ring, "user-1"))));
  CHECK(all_bytes(dir.path()).find(original.wrapped) == std::string::npos);
  store.destroy("user-1");
  store.destroy("never-had-one");
  CHECK(std::holds_alternative<key_destroyed>(*store.load("never-had-one")));
  CHECK(std::holds_alternative<wrapped_key>(*store.load("user-2")));
}

TEST_CASE("file key store: lists live keys in subject order by page; re-wraps by compare-and-set") {
  const cqrs::tests::scratch_dir dir;
  const master_keyring ring(key256::random());
  file_key_store store(dir.path());
  for (int i = 0; i < 5; ++i) (void)store.create(candidate(ring, "s" + std::to_string(i)));
  store.destroy("s2");
  CHECK(store.list_after("", 2).size() == 2);
  CHECK(store.list_after("", 2)[0].subject == "s0");
  CHECK(store.list_after("s1", 10).size() == 2);
  CHECK(store.list_after("s1", 10)[0].subject == "s3");
  const auto row = std::get<wrapped_key>(*store.load("s0"));
  CHECK_FALSE(store.rewrap("s0", "stale", "new"));
  CHECK(store.rewrap("s0", row.wrapped, "wk1.replaced"));
  CHECK(std::get<wrapped_key>(*store.load("s0")).wrapped == "wk1.replaced");
  CHECK_FALSE(store.rewrap("s2", "", "revived"));
  CHECK(std::holds_alternative<key_destroyed>(*store.load("s2")));
}

TEST_CASE("a vault over the file key store seals, forgets and rotates") {
  const cqrs::tests::scratch_dir dir;
  const auto old_key = key256::random();
  const auto new_key = key256::random();
  file_key_store store(dir.path());
  pii_vault vault(store, master_keyring(old_key));
  const auto alice = vault.seal("user-alice", {"user-alice", "email"}, "alice@example.com").value();
  const auto bob = vault.seal("user-bob", {"user-bob", "email"}, "bob@example.com").value();
  vault.forget("user-bob");
  CHECK(vault.open("user-bob", {"user-bob", "email"}, bob).is_erased());
  const auto report = rotate_master_key(store, master_keyring(old_key).rotated_to(new_key));
  CHECK(report.rewrapped == 1);
  pii_vault after(store, master_keyring(new_key));
  CHECK(after.open("user-alice", {"user-alice", "email"}, alice).text() == "alice@example.com");
  CHECK(after.open("user-bob", {"user-bob", "email"}, bob).is_erased());
}

TEST_CASE("the key store URL picks the store: file:///dir or PostgreSQL") {
  const cqrs::tests::scratch_dir dir;
  pii_config config;
  config.keystore_url = "file://" + (dir.path() / "store").string();
  const auto store = open_key_store(config);
  CHECK(dynamic_cast<file_key_store*>(store.get()) != nullptr);
  CHECK(std::filesystem::is_directory(dir.path() / "store"));
  config.keystore_url = "postgresql://nobody@127.0.0.1:1/keys";  // connects lazily: nothing is contacted here
  CHECK(dynamic_cast<pg_key_store*>(open_key_store(config).get()) != nullptr);
  const cqrs::core::settings_source relative(
      {{"CQRS_PII_MASTER_KEY_FILE", "/m"}, {"CQRS_PII_INDEX_KEY_FILE", "/i"}, {"CQRS_PII_KEYSTORE_URL", "file://keys"}}, {});
  CHECK_THROWS_AS((void)load_pii_config(relative), cqrs::core::config_error);
}
