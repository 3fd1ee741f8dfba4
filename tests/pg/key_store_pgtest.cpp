#include <doctest/doctest.h>

#include <latch>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "core/security/pg_key_store.hpp"
#include "core/security/pii_cipher.hpp"
#include "tests/pg/security_pg_fixture.hpp"
#include "tests/support/pg_helpers.hpp"

using namespace cqrs::core::security;
using cqrs::tests::keystore_url;
using cqrs::tests::run_id;

namespace {

std::string subject(std::string_view name) { return "keys_" + run_id() + "_" + std::string(name); }

wrapped_key candidate(const master_keyring& ring, const std::string& who) {
  const auto key = data_key::generate();
  return wrapped_key{who, key.id, wrap_data_key(ring, who, key)};
}

const wrapped_key& live(const stored_key& stored) {
  REQUIRE(std::holds_alternative<wrapped_key>(stored));
  return std::get<wrapped_key>(stored);
}

}  // namespace

TEST_CASE("a subject's data key is created once; a later create returns the first") {
  const master_keyring ring(key256::random());
  pg_key_store store(keystore_url());
  const auto who = subject("once");
  CHECK_FALSE(store.load(who).has_value());
  const auto first = candidate(ring, who);
  CHECK(live(store.create(first)).wrapped == first.wrapped);
  const auto second = store.create(candidate(ring, who));
  CHECK(live(second).key_id == first.key_id);
  CHECK(live(second).wrapped == first.wrapped);
  CHECK(live(*store.load(who)).wrapped == first.wrapped);
}

TEST_CASE("creators racing for one subject on their own connections all get the same key") {
  const master_keyring ring(key256::random());
  constexpr int creators = 8;
  for (int round = 0; round < 5; ++round) {
    const auto who = subject("race" + std::to_string(round));
    std::vector<std::unique_ptr<pg_key_store>> stores;
    for (int i = 0; i < creators; ++i) {
      stores.push_back(std::make_unique<pg_key_store>(keystore_url()));
      (void)stores.back()->load("warm-up");  // connected before the race
    }
    std::latch start(creators);
    std::vector<std::string> got(creators);
    std::vector<std::jthread> threads;
    for (int i = 0; i < creators; ++i) {
      threads.emplace_back([&, i] {
        const auto mine = candidate(ring, who);
        start.arrive_and_wait();
        const auto stored = stores[static_cast<std::size_t>(i)]->create(mine);
        got[static_cast<std::size_t>(i)] = std::get<wrapped_key>(stored).key_id;
      });
    }
    threads.clear();
    CHECK(std::set<std::string>(got.begin(), got.end()).size() == 1);
    CHECK(live(*pg_key_store(keystore_url()).load(who)).key_id == got.front());
  }
}

TEST_CASE("destroying a key leaves a tombstone: the wrapped key is gone and no new key can start") {
  const master_keyring ring(key256::random());
  pg_key_store store(keystore_url());
  const auto who = subject("forget");
  const auto original = live(store.create(candidate(ring, who)));
  store.destroy(who);
  CHECK(std::holds_alternative<key_destroyed>(*store.load(who)));
  CHECK(std::holds_alternative<key_destroyed>(store.create(candidate(ring, who))));
  store.destroy(who);  // idempotent
  CHECK(std::holds_alternative<key_destroyed>(*store.load(who)));

  pqxx::connection direct(keystore_url());
  pqxx::nontransaction tx(direct);
  const auto row = tx.exec_params("SELECT wrapped IS NULL, destroyed_at IS NOT NULL, "
                                  "(SELECT count(*) FROM pii_data_keys WHERE wrapped = $2) "
                                  "FROM pii_data_keys WHERE subject = $1",
                                  who, original.wrapped);
  REQUIRE(row.size() == 1);
  CHECK(row[0][0].as<bool>());
  CHECK(row[0][1].as<bool>());
  CHECK(row[0][2].as<long long>() == 0);
}

TEST_CASE("a subject forgotten before it had a key can never get one") {
  const master_keyring ring(key256::random());
  pg_key_store store(keystore_url());
  const auto who = subject("never");
  store.destroy(who);
  CHECK(std::holds_alternative<key_destroyed>(*store.load(who)));
  CHECK(std::holds_alternative<key_destroyed>(store.create(candidate(ring, who))));
}

TEST_CASE("live keys are listed in subject order, page by page, without the destroyed") {
  const master_keyring ring(key256::random());
  pg_key_store store(keystore_url());
  const auto prefix = subject("list") + "_";
  for (int i = 0; i < 7; ++i) (void)store.create(candidate(ring, prefix + std::to_string(i)));
  store.destroy(prefix + "3");
  std::vector<std::string> seen;
  std::string after = prefix;
  while (true) {
    const auto page = store.list_after(after, 2);
    CHECK(page.size() <= 2);
    bool past = page.empty();
    for (const auto& row : page) {
      if (!row.subject.starts_with(prefix)) {
        past = true;
        break;
      }
      seen.push_back(row.subject);
    }
    if (past || page.size() < 2) break;
    after = page.back().subject;
  }
  CHECK(seen == std::vector<std::string>{prefix + "0", prefix + "1", prefix + "2", prefix + "4", prefix + "5",
                                         prefix + "6"});
}

TEST_CASE("re-wrapping replaces only the wrapping it was given, and never revives a destroyed key") {
  const master_keyring ring(key256::random());
  pg_key_store store(keystore_url());
  const auto who = subject("rewrap");
  const auto row = live(store.create(candidate(ring, who)));
  CHECK_FALSE(store.rewrap(who, "wk1.0000000000000000.stale", "wk1.new"));
  CHECK(live(*store.load(who)).wrapped == row.wrapped);
  CHECK(store.rewrap(who, row.wrapped, "wk1.1111111111111111.replaced"));
  CHECK(live(*store.load(who)).wrapped == "wk1.1111111111111111.replaced");
  store.destroy(who);
  CHECK_FALSE(store.rewrap(who, "wk1.1111111111111111.replaced", "wk1.again"));
  CHECK(std::holds_alternative<key_destroyed>(*store.load(who)));
}

TEST_CASE("the key store creates its table on first use, also when several processes start at once") {
  const auto url = cqrs::tests::database_beside_event_store("cqrs_keys_fresh_" + run_id());
  constexpr int starters = 4;
  std::latch start(starters);
  std::vector<std::jthread> threads;
  std::atomic<int> answered{0};
  for (int i = 0; i < starters; ++i) {
    threads.emplace_back([&] {
      pg_key_store store(url);
      start.arrive_and_wait();
      if (!store.load("nobody").has_value()) ++answered;
    });
  }
  threads.clear();
  CHECK(answered == starters);
  pqxx::connection direct(url);
  pqxx::nontransaction tx(direct);
  CHECK(tx.exec("SELECT to_regclass('pii_data_keys') IS NOT NULL")[0][0].as<bool>());
}
