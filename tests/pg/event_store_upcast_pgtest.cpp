#include <doctest/doctest.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <sstream>

#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "tests/pg/pg_fixture.hpp"

using namespace cqrs::core;

namespace {

// Version 1 of "account.deposited": a whole-unit amount.
struct deposited_v1 {
  std::string account;
  int amount = 0;
  template <class Archive>
  void serialize(Archive& archive) { archive(account, amount); }
};

// Version 2: cents and a currency; old events were all in euros.
struct deposited_v2 {
  std::string account;
  std::int64_t amount_cents = 0;
  std::string currency;
  template <class Archive>
  void serialize(Archive& archive) { archive(account, amount_cents, currency); }
};

template <typename T>
std::string to_bytes(const T& value) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive archive(out);
    archive(value);
  }
  return out.str();
}

template <typename T>
T from_bytes(std::string_view bytes) {
  std::istringstream in{std::string(bytes)};
  cereal::PortableBinaryInputArchive archive(in);
  T value;
  archive(value);
  return value;
}

std::string deposited_v1_to_v2(std::string_view payload) {
  const auto old = from_bytes<deposited_v1>(payload);
  return to_bytes(deposited_v2{old.account, std::int64_t{old.amount} * 100, "EUR"});
}

}  // namespace

TEST_CASE("an event stored as v1 of its type reads back upcast to v2") {
  upcaster_registry upcasters;
  upcasters.add("account.deposited", 1, deposited_v1_to_v2);
  auto options = cqrs::tests::store_options_for_tests();
  options.upcasters = &upcasters;
  auto store = cqrs::tests::make_store(options);
  const auto stream = cqrs::tests::stream_in(cqrs::tests::unique_category("upcast"), "a");

  REQUIRE(store->append(stream, expected_version::no_stream(),
                        {new_event{"account.deposited", 1, to_bytes(deposited_v1{"acc-1", 12}), std::nullopt},
                         new_event{"account.deposited", 2, to_bytes(deposited_v2{"acc-1", 250, "USD"}), std::nullopt}})
              .ok());

  const auto read = store->read_stream(stream, stream_version{1}, 10).value().events;
  REQUIRE(read.size() == 2);
  CHECK(read[0].schema_version == 2);
  const auto first = from_bytes<deposited_v2>(read[0].payload);
  CHECK(first.account == "acc-1");
  CHECK(first.amount_cents == 1200);
  CHECK(first.currency == "EUR");
  CHECK(read[1].schema_version == 2);
  CHECK(from_bytes<deposited_v2>(read[1].payload).currency == "USD");

  // The global log upcasts too; a store without the registry sees what is stored.
  const auto logged = store->read_category(stream.category(), log_position{}, 10).value().events;
  CHECK(logged.at(0).schema_version == 2);
  auto plain = cqrs::tests::make_store();
  const auto raw = plain->read_stream(stream, stream_version{1}, 10).value().events;
  CHECK(raw.at(0).schema_version == 1);
  CHECK(from_bytes<deposited_v1>(raw.at(0).payload).amount == 12);
}

TEST_CASE("upcast steps chain and duplicates are refused") {
  upcaster_registry upcasters;
  upcasters.add("t", 1, [](std::string_view p) { return std::string(p) + "+2"; });
  upcasters.add("t", 2, [](std::string_view p) { return std::string(p) + "+3"; });
  std::string payload = "v1";
  CHECK(upcasters.upcast("t", 1, payload) == 3);
  CHECK(payload == "v1+2+3");
  CHECK(upcasters.current_version("t", 2) == 3);
  CHECK(upcasters.current_version("other", 1) == 1);
  CHECK_THROWS_AS(upcasters.add("t", 1, [](std::string_view p) { return std::string(p); }), std::invalid_argument);
}
