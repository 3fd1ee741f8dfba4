// Every stored event must be printable as JSON (the replay tool's view), and commands too (logs).

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "schemas/contracts/product/product_events_history.hpp"
#include "schemas/contracts/product/product_json.hpp"

namespace s = cqrs::schemas;
namespace json = boost::json;

TEST_CASE("an event prints as its type, schema version and fields") {
  const s::product_event event = s::product_created{s::sku("SKU-1"), "Teapot", "", s::money{1999, s::currency_code("EUR")}, 5};
  CHECK(json::value(s::to_json(event)) == json::parse(R"({"type":"product.created","schema_version":2,"data":
        {"sku":"SKU-1","name":"Teapot","description":"","price":{"amount_minor":1999,"currency":"EUR"},"initial_stock":5}})"));
}

TEST_CASE("every event type prints with the same fields as its stored payload") {
  const s::product_event events[] = {
      s::product_created{s::sku("A"), "n", "d", s::money{1, s::currency_code("EUR")}, 0},
      s::product_details_updated{"n", "d"},
      s::product_price_changed{s::money{2, s::currency_code("USD")}},
      s::product_restocked{s::quantity(3)},
      s::stock_reserved{s::reservation_id("r"), s::quantity(1)},
      s::reservation_released{s::reservation_id("r"), s::quantity(1)},
      s::reservation_committed{s::reservation_id("r"), s::quantity(1)},
      s::product_discontinued{"x"}};
  for (const auto& event : events) {
    const auto stored = s::encode(event);
    CAPTURE(stored.type);
    CHECK(s::to_json(event).at("data") == json::parse(stored.data));
  }
}

TEST_CASE("a stored event prints through the catalog, upcast to its current version") {
  const auto v1 = s::encode_one(s::product_created_v1{s::sku("OLD-1"), "Old", 700, 1});
  const auto printed = s::stored_event_to_json(v1.type, v1.schema_version, v1.data);
  CHECK(printed.at("schema_version") == 2);
  CHECK(printed.at("data").at("price") == json::parse(R"({"amount_minor":700,"currency":"EUR"})"));
  CHECK_THROWS_AS(s::stored_event_to_json("order.placed", 1, "{}"), s::contract_error);
}

TEST_CASE("a command prints as its type, schema version and fields") {
  const s::product_command command = s::reserve_stock{s::reservation_id("order-7"), s::quantity(2)};
  CHECK(json::serialize(s::to_json(command)) ==
        R"({"type":"product.reserve_stock","schema_version":1,"data":{"reservation_id":"order-7","quantity":2}})");
}

TEST_CASE("text with quotes, newlines and non-ASCII prints as valid JSON") {
  const s::product_event event = s::product_details_updated{"Théière \"deluxe\"", "line\nbreak\t\x01"};
  const auto text = json::serialize(s::to_json(event));
  CHECK(json::parse(text).at("data").at("name") == "Théière \"deluxe\"");
  CHECK(json::parse(text).at("data").at("description") == "line\nbreak\t\x01");
}
