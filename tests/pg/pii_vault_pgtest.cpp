#include <doctest/doctest.h>

#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/errors.hpp"
#include "core/event_store.hpp"
#include "core/security/pg_key_store.hpp"
#include "core/security/pii_vault.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/security_pg_fixture.hpp"

using namespace cqrs::core::security;
using cqrs::tests::keystore_url;
using cqrs::tests::run_id;

namespace {

std::string subject(std::string_view name) { return "vault_" + run_id() + "_" + std::string(name); }

vault_options uncached() {
  vault_options options;
  options.cache_ttl = std::chrono::milliseconds(0);
  return options;
}

// The fields of one user, as the Users domain seals them.
const std::vector<std::pair<std::string, std::string>> alice_fields = {
    {"email", "alice@example.com"}, {"name", "Alice Liddell"}, {"phone", "+44 20 7946 0000"}, {"address", "1 Rabbit Hole"}};

}  // namespace

TEST_CASE("fields sealed by one process open in another that holds the same master key") {
  const auto master = key256::random();
  pg_key_store store_a(keystore_url());
  pg_key_store store_b(keystore_url());
  pii_vault writer(store_a, master_keyring(master));
  pii_vault reader(store_b, master_keyring(master), uncached());
  const auto who = subject("alice");
  const field_context where{who, "email"};
  const auto sealed = writer.seal(who, where, "alice@example.com");
  REQUIRE(sealed.ok());
  const auto opened = reader.open(who, where, sealed.value());
  REQUIRE(opened.is_plain());
  CHECK(opened.text() == "alice@example.com");
  CHECK(opened.shown() == "alice@example.com");
  const auto elsewhere = reader.open(who, {who, "name"}, sealed.value());
  REQUIRE(elsewhere.which() == pii_value::state::unreadable);
  CHECK(elsewhere.problem().code == errc::sealed_not_authentic);
  CHECK(reader.open(who, where, "not sealed at all").problem().code == errc::sealed_malformed);
}

TEST_CASE("forgetting makes every field erased, in this process at once, even when its key was cached") {
  const auto master = key256::random();
  pg_key_store store(keystore_url());
  pg_key_store other_store(keystore_url());
  pii_vault vault(store, master_keyring(master));  // caches keys for 30 s
  pii_vault other(other_store, master_keyring(master), uncached());
  const auto who = subject("forgotten");
  std::vector<std::string> sealed;
  for (const auto& [field, value] : alice_fields) sealed.push_back(vault.seal(who, {who, field}, value).value());
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    CHECK(vault.open(who, {who, alice_fields[i].first}, sealed[i]).text() == alice_fields[i].second);
  }
  vault.forget(who);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (auto* v : {&vault, &other}) {
      const auto opened = v->open(who, {who, alice_fields[i].first}, sealed[i]);
      CHECK(opened.is_erased());
      CHECK(opened.shown() == erased_marker);
      CHECK_THROWS_AS((void)opened.text(), std::logic_error);
    }
  }
  const auto refused = vault.seal(who, {who, "email"}, "alice@example.org");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == errc::subject_forgotten);
  CHECK(other.seal(who, {who, "email"}, "alice@example.org").code() == errc::subject_forgotten);
  vault.forget(who);  // idempotent
  CHECK(vault.open(who, {who, "email"}, sealed[0]).is_erased());
}

TEST_CASE("a forgotten user's events replay with erased fields, never an error") {
  const auto master = key256::random();
  pg_key_store keys(keystore_url());
  pii_vault vault(keys, master_keyring(master), uncached());
  auto events = cqrs::tests::make_store();
  const auto stream = cqrs::tests::stream_in(cqrs::tests::unique_category("piiuser"), "u1");
  const auto who = stream.str();
  for (const auto& [field, value] : alice_fields) {
    const auto sealed = vault.seal(who, {who, field}, value).value();
    REQUIRE(events->append(stream, cqrs::core::expected_version::any(), {cqrs::tests::make_event(field + "_set", sealed)}).ok());
  }
  const auto before = cqrs::tests::whole_stream(*events, stream);
  REQUIRE(before.size() == alice_fields.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    CHECK(vault.open(who, {who, alice_fields[i].first}, before[i].payload).text() == alice_fields[i].second);
  }
  vault.forget(who);
  const auto after = cqrs::tests::whole_stream(*events, stream);
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].payload == before[i].payload);  // the events are untouched
    CHECK(vault.open(who, {who, alice_fields[i].first}, after[i].payload).is_erased());
  }
}

TEST_CASE("many processes sealing a new subject's first field at once share one data key") {
  const auto master = key256::random();
  constexpr int writers = 6;
  const auto who = subject("first_seal");
  std::vector<std::unique_ptr<pg_key_store>> stores;
  std::vector<std::unique_ptr<pii_vault>> vaults;
  for (int i = 0; i < writers; ++i) {
    stores.push_back(std::make_unique<pg_key_store>(keystore_url()));
    (void)stores.back()->load("warm-up");
    vaults.push_back(std::make_unique<pii_vault>(*stores.back(), master_keyring(master), uncached()));
  }
  std::latch start(writers);
  std::vector<std::string> sealed(writers);
  std::vector<std::jthread> threads;
  for (int i = 0; i < writers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      sealed[static_cast<std::size_t>(i)] =
          vaults[static_cast<std::size_t>(i)]->seal(who, {who, "name"}, "writer " + std::to_string(i)).value();
    });
  }
  threads.clear();
  for (int i = 0; i < writers; ++i) {
    CHECK(vaults[0]->open(who, {who, "name"}, sealed[static_cast<std::size_t>(i)]).text() == "writer " + std::to_string(i));
  }
}

TEST_CASE("a sealed field whose subject has no key at all is a broken key store, reported as such") {
  pg_key_store store(keystore_url());
  pii_vault vault(store, master_keyring(key256::random()), uncached());
  const auto sealed = seal_field(data_key::generate(), {"user-x", "email"}, "x@example.com");
  CHECK_THROWS_AS((void)vault.open(subject("no_key"), {"user-x", "email"}, sealed), cqrs::core::store_error);
}

TEST_CASE("a process without the master key that wrapped a data key fails loudly rather than report erased") {
  pg_key_store store(keystore_url());
  pii_vault writer(store, master_keyring(key256::random()), uncached());
  pii_vault stranger(store, master_keyring(key256::random()), uncached());
  const auto who = subject("stranger");
  const auto sealed = writer.seal(who, {who, "email"}, "a@example.com").value();
  CHECK_THROWS_AS((void)stranger.open(who, {who, "email"}, sealed), crypto_error);
}
