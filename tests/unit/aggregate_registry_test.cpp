// The list of aggregates that generic tools (`cqrs state`) use: it finds an aggregate by its
// stream category, folds stored events with the aggregate's own decoding and evolve, renders the
// state as the domain's JSON, and refuses what it does not know.

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "commands/domains.hpp"
#include "commands/product/product_aggregate.hpp"
#include "commands/product/product_domain.hpp"
#include "core/events.hpp"
#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "schemas/contracts/product/product_events_history.hpp"

namespace c = cqrs::commands;
namespace s = cqrs::schemas;
namespace core = cqrs::core;

namespace {

s::money eur(std::int64_t minor) { return s::money{minor, s::currency_code("EUR")}; }

core::recorded_event stored(const s::encoded_payload& payload, std::int64_t version) {
  return core::recorded_event{.stream = core::stream_id::parse("product-9").value(),
                              .version = core::stream_version{version},
                              .id = core::event_id::generate(),
                              .type = payload.type,
                              .schema_version = payload.schema_version,
                              .payload = payload.data};
}

core::recorded_event stored(const s::product_event& event, std::int64_t version) {
  return stored(s::encode(event), version);
}

std::vector<core::recorded_event> product_history() {
  return {stored(s::product_created{s::sku("SKU-9"), "Teapot", "Holds tea", eur(1999), 5}, 1),
          stored(s::product_restocked{s::quantity(3)}, 2),
          stored(s::stock_reserved{s::reservation_id("r1"), s::quantity(2)}, 3),
          stored(s::stock_reserved{s::reservation_id("r2"), s::quantity(1)}, 4),
          stored(s::reservation_committed{s::reservation_id("r2"), s::quantity(1)}, 5)};
}

// What `cqrs state` prints for that history, field for field and in this order.
constexpr auto expected_state =
    R"({"exists":true,"sku":"SKU-9","name":"Teapot","description":"Holds tea",)"
    R"("price":{"amount_minor":1999,"currency":"EUR"},"discontinued":false,"on_hand":7,"reserved":2,)"
    R"("available":5,"open_reservations":{"r1":2},"closed_reservations":["r2"]})";

const c::aggregate_entry& product_entry() {
  const auto* entry = c::aggregates().find("product");
  REQUIRE(entry != nullptr);
  return *entry;
}

}  // namespace

TEST_CASE("the registry finds the product aggregate by its stream category") {
  CHECK(product_entry().category == c::product::product_aggregate::category);
  CHECK(c::aggregates().categories() == std::vector<std::string>{"product", "user", "order", "payment"});
}

TEST_CASE("the registry refuses categories no aggregate has") {
  CHECK(c::aggregates().find("invoice") == nullptr);
  CHECK(c::aggregates().find("") == nullptr);
  CHECK(c::aggregates().find("Product") == nullptr);
}

TEST_CASE("a product's stored events fold into the state cqrs state prints") {
  const auto history = product_history();
  auto folder = product_entry().make_folder();
  folder->fold(history);
  CHECK(boost::json::serialize(folder->state_json()) == expected_state);
}

TEST_CASE("folding in batches gives the state of folding at once, and each folder starts afresh") {
  const auto history = product_history();
  const std::span<const core::recorded_event> all(history);
  auto in_batches = product_entry().make_folder();
  in_batches->fold(all.first(2));
  in_batches->fold(all.subspan(2));
  CHECK(boost::json::serialize(in_batches->state_json()) == expected_state);

  const auto fresh = product_entry().make_folder();
  const auto initial = c::product::to_json(c::product::product_aggregate::initial_state());
  CHECK(fresh->state_json() == initial);
  CHECK(fresh->state_json().at("exists") == false);
}

TEST_CASE("the folder reads older schema versions through the aggregate's decoding") {
  const auto v1 = s::encode_one(s::product_created_v1{s::sku("OLD-1"), "Old", 700, 4});
  const std::vector<core::recorded_event> history{stored(v1, 1)};
  auto folder = product_entry().make_folder();
  folder->fold(history);
  const auto state = folder->state_json();
  CHECK(state.at("price") == boost::json::parse(R"({"amount_minor":700,"currency":"EUR"})"));
  CHECK(state.at("on_hand") == 4);
}

TEST_CASE("an event the aggregate cannot read is an error, not a skipped event") {
  const auto unknown = stored(s::encoded_payload{"order.placed", 1, "{}"}, 1);
  auto folder = product_entry().make_folder();
  CHECK_THROWS_AS(folder->fold(std::vector<core::recorded_event>{unknown}), s::contract_error);
}

TEST_CASE("a category registered twice is refused") {
  c::aggregate_registry registry;
  c::product::register_aggregates(registry);
  CHECK_THROWS_AS(c::product::register_aggregates(registry), std::logic_error);
  CHECK(registry.categories().size() == 1);
}

TEST_CASE("an order's and a payment's stored events fold into the states cqrs state prints") {
  const auto* order = c::aggregates().find("order");
  REQUIRE(order != nullptr);
  auto folder = order->make_folder();
  const s::order_placed placed{s::customer_id("u-1"),
                               {s::order_line{s::product_id("p-1"), s::quantity(2), eur(500)}},
                               eur(1000),
                               s::shipping_address{"1 Main Street", "Lyon", "69001", "FR"},
                               s::payment_id("pay-1")};
  const std::vector<core::recorded_event> order_history{stored(s::encode(s::order_event{placed}), 1),
                                                       stored(s::encode(s::order_event{s::order_stock_reserved{}}), 2)};
  folder->fold(order_history);
  const auto shown = folder->state_json();
  CHECK(shown.at("status") == "stock_reserved");
  CHECK(shown.at("total") == boost::json::parse(R"({"amount_minor":1000,"currency":"EUR"})"));
  CHECK(shown.at("lines").as_array().size() == 1);

  const auto* payment = c::aggregates().find("payment");
  REQUIRE(payment != nullptr);
  auto payments = payment->make_folder();
  const std::vector<core::recorded_event> payment_history{
      stored(s::encode(s::payment_event{s::payment_requested{s::order_id("o-1"), eur(1000), s::card_token("tok")}}), 1),
      stored(s::encode(s::payment_event{s::payment_authorized{s::charge_id("ch_1")}}), 2)};
  payments->fold(payment_history);
  CHECK(payments->state_json().at("status") == "authorized");
  CHECK_FALSE(payments->state_json().contains("card_token"));
}
