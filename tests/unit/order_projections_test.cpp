// The Order read models' handlers without Redis or PostgreSQL: what each event writes, the order's
// status along its lifecycle (never backwards), the payment's status with refunds, and the
// combined read's decoding (including the hashes a different writer could leave).

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "projections/order/order_projections.hpp"
#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"

using namespace cqrs;
namespace s = cqrs::schemas;
namespace order = cqrs::projections::order;

namespace {

s::money eur(std::int64_t minor) { return s::money{minor, s::currency_code("EUR")}; }

core::recorded_event stored(const std::string& stream, const s::encoded_payload& payload, std::int64_t version) {
  return core::recorded_event{.stream = core::stream_id::parse(stream).value(),
                              .version = core::stream_version{version},
                              .id = core::event_id::generate(),
                              .type = payload.type,
                              .schema_version = payload.schema_version,
                              .payload = payload.data};
}

using hash = std::map<std::string, std::string>;
using hashes = std::map<std::string, hash>;

void apply_ops(hashes& into, const std::vector<projections::redis_op>& ops) {
  for (const auto& op : ops) {
    REQUIRE(op.command == "HSET");
    for (std::size_t i = 0; i + 1 < op.args.size(); i += 2) into[op.key][op.args[i]] = op.args[i + 1];
  }
}

projections::redis_reply text(const std::string& t) { return {projections::redis_reply::kind::text, 0, t, {}}; }

projections::redis_reply reply_of(const hash& o, const hash& p) {
  projections::redis_reply both{projections::redis_reply::kind::array, 0, {}, {}};
  for (const auto* h : {&o, &p}) {
    projections::redis_reply one{projections::redis_reply::kind::array, 0, {}, {}};
    for (const auto& [k, v] : *h) {
      one.elements.push_back(text(k));
      one.elements.push_back(text(v));
    }
    both.elements.push_back(one);
  }
  return both;
}

s::order_placed placed() {
  return s::order_placed{s::customer_id("ada"),
                         {s::order_line{s::product_id("p1"), s::quantity(2), eur(1250)},
                          s::order_line{s::product_id("p2"), s::quantity(1), eur(300)}},
                         eur(2800),
                         s::shipping_address{"1 Main St", "Springfield", "12345", "US"},
                         s::payment_id("pay-1")};
}

}  // namespace

TEST_SUITE("order read models") {
  TEST_CASE("placing writes the whole order; each later event moves the status forward and the version") {
    const order::order_detail_projection detail;
    hashes model;
    const std::vector<s::order_event> life{placed(), s::order_stock_reserved{}, s::order_paid{}, s::order_shipped{},
                                           s::order_refund_requested{s::refund_id("r1"), eur(300)},
                                           s::order_refunded{s::refund_id("r1"), eur(300), eur(300), false},
                                           s::order_delivered{}};
    const std::vector<std::string> statuses{"placed",  "stock_reserved", "paid", "shipped",
                                            "shipped", "partially_refunded", "delivered"};
    const auto& order_statuses = order::order_statuses();
    for (std::size_t i = 0; i < life.size(); ++i) {
      apply_ops(model, detail.changes(stored("order-o1", s::encode(life[i]), static_cast<std::int64_t>(i + 1))));
      const auto& h = model["order:o1"];
      CHECK(h.at("status") == statuses[i]);
      CHECK(h.at("version") == std::to_string(i + 1));
      CHECK(std::find(order_statuses.begin(), order_statuses.end(), h.at("status")) != order_statuses.end());
    }
    const auto& h = model["order:o1"];
    CHECK(h.at("customer_id") == "ada");
    CHECK(h.at("total_minor") == "2800");
    CHECK(h.at("currency") == "EUR");
    CHECK(h.at("payment_id") == "pay-1");
    const auto lines = boost::json::parse(h.at("lines")).as_array();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].as_object().at("unit_price").as_object().at("amount").as_int64() == 1250);
  }

  TEST_CASE("a full refund, or a cancel, ends the order in that state") {
    CHECK(order::detail::status_after(s::order_refunded{s::refund_id("r"), eur(1), eur(2800), true}) == "refunded");
    CHECK(order::detail::status_after(s::order_cancelled{"customer", true}) == "cancelled");
    CHECK(order::detail::status_after(s::order_rejected{"out of stock"}) == "rejected");
    CHECK(order::detail::status_after(s::order_expired{}) == "expired");
    CHECK(order::detail::status_after(s::order_payment_failed{"card_declined"}) == "payment_failed");
    CHECK_FALSE(order::detail::status_after(s::order_refund_requested{s::refund_id("r"), eur(1)}));
  }

  TEST_CASE("the payment reads requested while pending, captured with partial refunds, refunded at the captured sum") {
    const order::order_payment_projection payments;
    hashes model;
    const std::vector<s::payment_event> life{s::payment_requested{s::order_id("o1"), eur(2800), s::card_token("tok")},
                                             s::payment_pending{s::charge_id("ch")},
                                             s::payment_authorized{s::charge_id("ch")},
                                             s::payment_captured{eur(2800)},
                                             s::payment_refunded{s::refund_id("r1"), eur(300), eur(300)},
                                             s::payment_refunded{s::refund_id("r2"), eur(2500), eur(2800)}};
    const std::vector<std::string> statuses{"requested", "requested", "authorized", "captured", "captured", "refunded"};
    for (std::size_t i = 0; i < life.size(); ++i) {
      apply_ops(model, payments.changes(stored("payment-pay-1", s::encode(life[i]), static_cast<std::int64_t>(i + 1))));
      const auto view = order::detail::decode_payment(model["payment:pay-1"]);
      REQUIRE(view);
      CHECK(view->status == statuses[i]);
      CHECK(view->order_id == "o1");
      CHECK(view->amount_minor == 2800);
    }
    CHECK(order::detail::decode_payment(model["payment:pay-1"])->refunded_minor == 2800);
  }

  TEST_CASE("the combined read: the order with its payment's status, or without one yet") {
    const order::order_detail_projection detail;
    const order::order_payment_projection payments;
    hashes model;
    apply_ops(model, detail.changes(stored("order-o1", s::encode(placed()), 1)));
    auto view = order::decode_order_detail(reply_of(model["order:o1"], {}));
    REQUIRE(view);
    CHECK(view->order_id == "o1");
    CHECK(view->status == "placed");
    CHECK_FALSE(view->payment_status);
    apply_ops(model, payments.changes(stored("payment-pay-1",
                                         s::encode(s::payment_event{s::payment_requested{s::order_id("o1"), eur(2800),
                                                                                         s::card_token("tok")}}),
                                         1)));
    view = order::decode_order_detail(reply_of(model["order:o1"], model["payment:pay-1"]));
    REQUIRE(view);
    CHECK(view->payment_status == "requested");
  }

  TEST_CASE("a missing order, or a hash with a field missing or not a number, reads as a miss") {
    CHECK_FALSE(order::decode_order_detail(reply_of({}, {})));
    const order::order_detail_projection detail;
    hashes model;
    apply_ops(model, detail.changes(stored("order-o1", s::encode(placed()), 1)));
    auto broken = model["order:o1"];
    broken["version"] = "seven";
    CHECK_FALSE(order::decode_order_detail(reply_of(broken, {})));
    broken = model["order:o1"];
    broken.erase("status");
    CHECK_FALSE(order::decode_order_detail(reply_of(broken, {})));
  }

  TEST_CASE("events of other types pass through without a change") {
    const order::order_detail_projection detail;
    const auto other = stored("order-o1", s::encoded_payload{"product.restocked", 1, R"({"quantity":1})"}, 1);
    CHECK(detail.changes(other).empty());
  }
}
