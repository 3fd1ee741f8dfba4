// The Order and Payment contracts' stored and JSON forms: every event and command reads back
// equal, payloads are flat objects of the stored field names (money as amount_minor and
// currency, lines and the address nested), the catalog prints stored events, and bad bytes are
// contract errors.

#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include <boost/json/parse.hpp>

#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/order/order_json.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"
#include "schemas/contracts/payment/payment_json.hpp"

namespace s = cqrs::schemas;

namespace {

s::money eur(std::int64_t minor) { return s::money{minor, s::currency_code("EUR")}; }

std::vector<s::order_line> two_lines() {
  return {s::order_line{s::product_id("p-1"), s::quantity(2), eur(1250)},
          s::order_line{s::product_id("p-2"), s::quantity(1), eur(99)}};
}

const s::shipping_address address{"1 Main \"Street\"", "Lyon", "69001", "FR"};

std::vector<s::order_event> one_of_each_order_event() {
  return {s::order_placed{s::customer_id("u-1"), two_lines(), eur(2599), address, s::payment_id("pay-1")},
          s::order_stock_reserved{},
          s::order_rejected{"product p-2 is out of stock"},
          s::order_paid{},
          s::order_payment_failed{"declined: insufficient_funds"},
          s::order_expired{},
          s::order_cancelled{"customer", true},
          s::order_shipped{},
          s::order_delivered{},
          s::order_refund_requested{s::refund_id("r-1"), eur(500)},
          s::order_refunded{s::refund_id("r-1"), eur(500), eur(500), false}};
}

std::vector<s::order_command> one_of_each_order_command() {
  return {s::place_order{s::customer_id("u-1"), two_lines(), address, s::payment_id("pay-1"), s::card_token("tok_1")},
          s::mark_order_stock_reserved{},
          s::reject_order{"unknown product"},
          s::mark_order_paid{},
          s::mark_order_payment_failed{"failed"},
          s::expire_order{},
          s::cancel_order{"admin"},
          s::ship_order{},
          s::deliver_order{},
          s::request_order_refund{s::refund_id("r-2"), eur(1)},
          s::record_order_refund{s::refund_id("r-2"), eur(1)}};
}

std::vector<s::payment_event> one_of_each_payment_event() {
  return {s::payment_requested{s::order_id("o-1"), eur(2599), s::card_token("tok_1")},
          s::payment_pending{s::charge_id("ch_1")},
          s::payment_authorized{s::charge_id("ch_1")},
          s::payment_captured{eur(2599)},
          s::payment_declined{"insufficient_funds"},
          s::payment_failed{"provider error"},
          s::payment_voided{},
          s::payment_refunded{s::refund_id("r-1"), eur(500), eur(700)}};
}

std::vector<s::payment_command> one_of_each_payment_command() {
  return {s::request_payment{s::order_id("o-1"), eur(2599), s::card_token("tok_1")},
          s::mark_payment_pending{s::charge_id("ch_1")},
          s::authorize_payment{s::charge_id("ch_1")},
          s::capture_payment{},
          s::decline_payment{"do_not_honor"},
          s::fail_payment{"timeout"},
          s::void_payment{},
          s::refund_payment{s::refund_id("r-1"), eur(500)}};
}

// Every alternative once, each reading back equal, its JSON view the stored payload with identity.
template <typename Variant, typename Decode>
void check_round_trips(const std::vector<Variant>& all, Decode decode) {
  CHECK(all.size() == std::variant_size_v<Variant>);
  for (const auto& contract : all) {
    const auto stored = s::encode(contract);
    CAPTURE(stored.type);
    CAPTURE(stored.data);
    CHECK(stored.schema_version == 1);
    CHECK(decode(stored.type, stored.schema_version, stored.data) == contract);
    const auto view = s::to_json(contract);
    CHECK(view.at("type") == boost::json::value(stored.type));
    CHECK(view.at("schema_version") == 1);
    CHECK(view.at("data") == boost::json::parse(stored.data));
  }
}

}  // namespace

TEST_CASE("every order event and command reads back equal; its JSON view is the stored payload") {
  check_round_trips(one_of_each_order_event(), s::decode_order_event);
  check_round_trips(one_of_each_order_command(), s::decode_order_command);
  for (const auto& event : one_of_each_order_event()) {
    const auto stored = s::encode(event);
    CHECK(s::is_order_event(stored.type, 1));
    CHECK(s::stored_event_to_json(stored.type, 1, stored.data) == s::to_json(event));
  }
}

TEST_CASE("every payment event and command reads back equal; its JSON view is the stored payload") {
  check_round_trips(one_of_each_payment_event(), s::decode_payment_event);
  check_round_trips(one_of_each_payment_command(), s::decode_payment_command);
  for (const auto& event : one_of_each_payment_event()) {
    const auto stored = s::encode(event);
    CHECK(s::is_payment_event(stored.type, 1));
    CHECK_FALSE(s::is_order_event(stored.type, 1));
    CHECK(s::stored_event_to_json(stored.type, 1, stored.data) == s::to_json(event));
  }
}

TEST_CASE("order.placed is stored as a flat object: lines and address nested, money in minor units, no card token") {
  const auto stored = s::encode(one_of_each_order_event().front());
  CHECK(stored.type == "order.placed");
  CHECK(boost::json::parse(stored.data) ==
        boost::json::parse(R"({"customer_id":"u-1","lines":[)"
                           R"({"product_id":"p-1","quantity":2,"unit_price":{"amount_minor":1250,"currency":"EUR"}},)"
                           R"({"product_id":"p-2","quantity":1,"unit_price":{"amount_minor":99,"currency":"EUR"}}],)"
                           R"("total":{"amount_minor":2599,"currency":"EUR"},)"
                           R"("shipping_address":{"line1":"1 Main \"Street\"","city":"Lyon","postal_code":"69001",)"
                           R"("country":"FR"},"payment_id":"pay-1"})"));
  const auto place = s::encode(one_of_each_order_command().front());
  CHECK(place.type == "order.place");
  CHECK(boost::json::parse(place.data).at("card_token") == "tok_1");
}

TEST_CASE("field names of the smaller order and payment contracts are the documented ones") {
  CHECK(boost::json::parse(s::encode(s::order_event{s::order_cancelled{"customer", true}}).data) ==
        boost::json::parse(R"({"by":"customer","refund_needed":true})"));
  CHECK(boost::json::parse(s::encode(s::order_event{s::order_refunded{s::refund_id("r"), eur(1), eur(3), true}}).data) ==
        boost::json::parse(R"({"refund_id":"r","amount":{"amount_minor":1,"currency":"EUR"},)"
                           R"("refunded_total":{"amount_minor":3,"currency":"EUR"},"full":true})"));
  CHECK(boost::json::parse(s::encode(s::order_event{s::order_paid{}}).data) == boost::json::parse("{}"));
  CHECK(boost::json::parse(s::encode(s::payment_command{s::authorize_payment{s::charge_id("ch")}}).data) ==
        boost::json::parse(R"({"charge_id":"ch"})"));
  CHECK(boost::json::parse(s::encode(s::payment_event{s::payment_requested{s::order_id("o"), eur(5),
                                                                             s::card_token("t")}})
                               .data) ==
        boost::json::parse(R"({"order_id":"o","amount":{"amount_minor":5,"currency":"EUR"},"card_token":"t"})"));
}

TEST_CASE("unknown order and payment versions and unreadable payloads are contract errors") {
  CHECK_THROWS_AS(s::decode_order_event("order.placed", 2, "{}"), s::contract_error);
  CHECK_THROWS_AS(s::decode_order_event("order.nothing", 1, "{}"), s::contract_error);
  CHECK_THROWS_AS(s::decode_payment_event("payment.placed", 1, "{}"), s::contract_error);
  for (const char* bad : {"", "{", "[]", "{}", R"({"refund_id":"r","amount":5})", "null",
                          R"({"refund_id":"r","amount":{"amount_minor":"1","currency":"EUR"}})"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(s::decode_order_event("order.refund_requested", 1, bad), s::contract_error);
    CHECK_THROWS_AS(s::decode_payment_command("payment.refund", 1, bad), s::contract_error);
  }
  CHECK_THROWS_AS(s::decode_order_event("order.placed", 1, R"({"customer_id":"u","lines":{}})"), s::contract_error);
  CHECK(s::decode_order_event("order.paid", 1, "{}") == s::order_event{s::order_paid{}});
}
