// Stored form of the contracts: cereal JSON payloads that read back equal, older versions read
// as current ones (through the codec and through the event store's upcaster registry), and
// clear errors for anything unreadable.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/parse.hpp>

#include "core/upcasting.hpp"
#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "schemas/contracts/product/product_events_history.hpp"

namespace s = cqrs::schemas;

namespace {

s::money eur(std::int64_t minor) { return s::money{minor, s::currency_code("EUR")}; }

std::vector<s::product_event> one_of_each_event() {
  return {s::product_created{s::sku("SKU-1"), "Teapot", "Holds \"tea\"\n", eur(1999), 5},
          s::product_details_updated{"Théière", ""},
          s::product_price_changed{s::money{250, s::currency_code("JPY")}},
          s::product_restocked{s::quantity(3)},
          s::stock_reserved{s::reservation_id("order-1"), s::quantity(2)},
          s::reservation_released{s::reservation_id("order-1"), s::quantity(2)},
          s::reservation_committed{s::reservation_id("order-2"), s::quantity(1)},
          s::product_discontinued{"replaced by SKU-2"}};
}

std::vector<s::product_command> one_of_each_command() {
  return {s::create_product{s::sku("SKU-1"), "Teapot", "d", eur(1), 0},
          s::update_product_details{"n", "d"},
          s::change_product_price{eur(2)},
          s::restock_product{s::quantity(1)},
          s::reserve_stock{s::reservation_id("r"), s::quantity(1)},
          s::release_reservation{s::reservation_id("r")},
          s::commit_reservation{s::reservation_id("r")},
          s::discontinue_product{""}};
}

}  // namespace

TEST_CASE("every event type reads back equal from its stored form") {
  const auto events = one_of_each_event();
  REQUIRE(events.size() == std::variant_size_v<s::product_event>);
  for (const auto& event : events) {
    const auto stored = s::encode(event);
    CAPTURE(stored.type);
    CHECK(s::decode_product_event(stored.type, stored.schema_version, stored.data) == event);
  }
}

TEST_CASE("every command type reads back equal from its stored form") {
  const auto commands = one_of_each_command();
  REQUIRE(commands.size() == std::variant_size_v<s::product_command>);
  for (const auto& command : commands) {
    const auto stored = s::encode(command);
    CAPTURE(stored.type);
    CHECK(s::decode_product_command(stored.type, stored.schema_version, stored.data) == command);
  }
}

TEST_CASE("a stored payload is a flat JSON object of the contract's fields, values bare") {
  const auto stored = s::encode(s::product_event{s::stock_reserved{s::reservation_id("order-1"), s::quantity(2)}});
  CHECK(stored.type == "product.stock_reserved");
  CHECK(stored.schema_version == 1);
  CHECK(boost::json::parse(stored.data) == boost::json::parse(R"({"reservation_id":"order-1","quantity":2})"));
}

TEST_CASE("product.created is written as version 2 with the price as an object") {
  const auto stored = s::encode(s::product_event{s::product_created{s::sku("A-1"), "n", "d", eur(100), 3}});
  CHECK(stored.schema_version == 2);
  CHECK(boost::json::parse(stored.data) ==
        boost::json::parse(
            R"({"sku":"A-1","name":"n","description":"d","price":{"amount_minor":100,"currency":"EUR"},"initial_stock":3})"));
}

TEST_CASE("product.created v1 reads as v2: no description, price in euros") {
  const auto v1 = s::encode_one(s::product_created_v1{s::sku("OLD-1"), "Old teapot", 1500, 4});
  REQUIRE(v1.schema_version == 1);
  const auto event = s::decode_product_event(v1.type, 1, v1.data);
  CHECK(event == s::product_event{s::product_created{s::sku("OLD-1"), "Old teapot", "", eur(1500), 4}});
}

TEST_CASE("the event store's upcaster registry lifts product.created v1 bytes to v2 bytes") {
  cqrs::core::upcaster_registry registry;
  s::register_upcasters(registry);
  auto payload = s::encode_one(s::product_created_v1{s::sku("OLD-1"), "Old teapot", 1500, 4}).data;
  const int version = registry.upcast("product.created", 1, payload);
  CHECK(version == 2);
  CHECK(s::decode_product_event("product.created", 2, payload) ==
        s::product_event{s::product_created{s::sku("OLD-1"), "Old teapot", "", eur(1500), 4}});
  CHECK(registry.current_version("product.restocked", 1) == 1);
}

TEST_CASE("an unknown type or schema version is a contract_error naming it") {
  CHECK_THROWS_WITH_AS(s::decode_product_event("product.teleported", 1, "{}"), "unknown contract product.teleported v1",
                       s::contract_error);
  CHECK_THROWS_AS(s::decode_product_event("product.created", 3, "{}"), s::contract_error);
  CHECK_FALSE(s::is_product_event("product.created", 3));
  CHECK(s::is_product_event("product.created", 1));
}

TEST_CASE("malformed or incomplete payloads are contract_errors, never crashes") {
  const std::vector<std::string> bad{"", "not json", "{", "[1,2]", R"({"quantity":"three"})", R"({"other":1})",
                                     "{\"quantity\":1"};
  for (const auto& data : bad) {
    CAPTURE(data);
    CHECK_THROWS_AS(s::decode_product_event("product.restocked", 1, data), s::contract_error);
  }
}

// A fuzzing finding (tests/fuzz/event_payloads.cpp): rapidjson 1.1.0 read out of bounds converting
// a number of hundreds of digits.
TEST_CASE("a payload with a number of more than 64 characters is a contract_error naming it") {
  const auto zeros = std::string(400, '0');
  for (const auto& data : {"0." + zeros, R"({"quantity":0.)" + zeros + "}", R"({"quantity":1)" + zeros + "}"}) {
    CHECK_THROWS_WITH_AS(s::decode_product_event("product.restocked", 1, data),
                         "cannot read product.restocked v1: a number of more than 64 characters", s::contract_error);
  }
  // Strings may hold digits of any length; numbers up to the bound still read.
  const auto id = std::string(100, '7');
  CHECK(s::decode_product_event("product.reservation_committed", 1,
                                R"({"reservation_id":")" + id + R"(","quantity":1})") ==
        s::product_event{s::reservation_committed{s::reservation_id(id), s::quantity(1)}});
  CHECK(s::decode_product_event("product.restocked", 1, R"({"quantity":9223372036854775807})") ==
        s::product_event{s::product_restocked{s::quantity(9223372036854775807)}});
}

TEST_CASE("extra fields in a payload are ignored, so a newer writer's additions do not break readers") {
  const auto event = s::decode_product_event("product.restocked", 1, R"({"quantity":4,"note":"extra"})");
  CHECK(event == s::product_event{s::product_restocked{s::quantity(4)}});
}

TEST_CASE("the catalog lists every event type with its current and readable versions") {
  const auto contracts = s::event_contracts();
  CHECK(std::ranges::count(contracts, std::string("product"), &s::contract_info::domain) ==
        std::variant_size_v<s::product_event>);
  for (const auto& info : contracts) {
    CAPTURE(info.name);
    CHECK(info.readable_versions.back() == info.current_version);
    if (info.name == "product.created") CHECK(info.readable_versions == std::vector<int>{1, 2});
  }
}
