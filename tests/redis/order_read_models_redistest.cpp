// The Order read models against real Redis and PostgreSQL: the order with its payment's status in
// one read, the fold from the event store answering the same, the lists (newest first, keyset
// pages, by customer and status, each item with its payment's status), exactly-once application
// and rebuilds equal to the incremental models. Each test runs the projections under its own scope.

#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "projections/rebuild.hpp"
#include "tests/redis/order_world.hpp"

using namespace cqrs;
using cqrs::tests::order_world;
namespace s = cqrs::schemas;
namespace po = cqrs::projections::order;

namespace {

s::money eur(std::int64_t minor) { return s::money{minor, s::currency_code("EUR")}; }

s::order_placed placed(const std::string& customer, const std::string& payment, std::int64_t amount = 1250) {
  return s::order_placed{s::customer_id(customer),
                         {s::order_line{s::product_id("p1"), s::quantity(2), eur(amount)}},
                         eur(2 * amount),
                         s::shipping_address{"1 Main St", "Springfield", "12345", "US"},
                         s::payment_id(payment)};
}

// The order as a list item and as read alone agree on everything; the lines are the same JSON
// (PostgreSQL's jsonb spells it its own way).
po::order_view without_lines(po::order_view v) {
  v.lines_json.clear();
  return v;
}

std::vector<std::string> ids_of(const std::vector<po::order_view>& rows) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.order_id);
  return ids;
}

}  // namespace

TEST_CASE("one read has the order and its payment's status; the fold from the store answers the same") {
  order_world world("odetail");
  world.order("o1", {placed("ada", "pay1")});
  auto view = world.read("o1").value();
  CHECK(view.status == "placed");
  CHECK(view.customer_id == "ada");
  CHECK(view.total_minor == 2500);
  CHECK_FALSE(view.payment_status);
  CHECK(view.version == 1);

  world.order("o1", {s::order_stock_reserved{}});
  world.payment("pay1", {s::payment_requested{s::order_id("o1"), eur(2500), s::card_token("tok_ok")},
                         s::payment_authorized{s::charge_id("ch_1")}, s::payment_captured{eur(2500)}});
  world.order("o1", {s::order_paid{}});
  view = world.read("o1").value();
  CHECK(view.status == "paid");
  CHECK(view.payment_status == "captured");
  CHECK(view.version == 3);
  CHECK(world.fold("o1") == view);

  const auto payment = po::fold_payment_view(world.store(), "pay1", world.payment_category()).value();
  CHECK(payment.order_id == "o1");
  CHECK(payment.status == "captured");
  CHECK(payment.amount_minor == 2500);
  CHECK_FALSE(world.read("nobody"));
  CHECK_FALSE(world.fold("nobody"));
}

TEST_CASE("the lists come newest first in keyset pages, by customer and by status") {
  order_world world("olist");
  for (const auto& id : {"o1", "o2", "o3", "o4"}) world.order(id, {placed(id == std::string("o3") ? "bob" : "ada", std::string("p") + id)});
  world.order("o2", {s::order_stock_reserved{}});

  po::order_list_query all;
  CHECK(ids_of(world.page(all)) == std::vector<std::string>{"o4", "o3", "o2", "o1"});
  po::order_list_query ada;
  ada.customer_id = "ada";
  ada.limit = 2;
  const auto first = world.page(ada);
  CHECK(ids_of(first) == std::vector<std::string>{"o4", "o2"});
  ada.after = po::order_list_cursor{first.back().created_at, first.back().order_id};
  CHECK(ids_of(world.page(ada)) == std::vector<std::string>{"o1"});
  po::order_list_query reserved;
  reserved.status = "stock_reserved";
  const auto rows = world.page(reserved);
  REQUIRE(ids_of(rows) == std::vector<std::string>{"o2"});
  CHECK(rows[0].version == 2);
  CHECK(rows[0].updated_at >= rows[0].created_at);
}

TEST_CASE("every listed order carries its payment's status, as the single read does") {
  order_world world("olistpay");
  world.order("o1", {placed("ada", "pay1"), s::order_stock_reserved{}});
  world.order("o2", {placed("ada", "pay2")});
  auto rows = world.page({});
  REQUIRE(ids_of(rows) == std::vector<std::string>{"o2", "o1"});
  CHECK_FALSE(rows[0].payment_status);  // no payment event applied yet
  CHECK_FALSE(rows[1].payment_status);

  world.payment("pay1", {s::payment_requested{s::order_id("o1"), eur(2500), s::card_token("tok_ok")}});
  CHECK(world.page({})[1].payment_status == "requested");
  world.payment("pay1", {s::payment_pending{s::charge_id("ch_1")}});
  CHECK(world.page({})[1].payment_status == "requested");  // pending at the provider
  world.payment("pay1", {s::payment_authorized{s::charge_id("ch_1")}, s::payment_captured{eur(2500)}});
  world.order("o1", {s::order_paid{}});
  rows = world.page({});
  CHECK(rows[1].payment_status == "captured");
  CHECK(rows[1].status == "paid");
  CHECK(without_lines(rows[1]) == without_lines(world.read("o1").value()));  // the order as read alone

  world.order("o1", {s::order_refund_requested{s::refund_id("r1"), eur(1000)}});
  world.payment("pay1", {s::payment_refunded{s::refund_id("r1"), eur(1000), eur(1000)}});
  world.order("o1", {s::order_refunded{s::refund_id("r1"), eur(1000), eur(1000), false}});
  rows = world.page({});
  CHECK(rows[1].payment_status == "captured");  // a partial refund keeps `captured`
  CHECK(rows[1].status == "partially_refunded");
  world.payment("pay1", {s::payment_refunded{s::refund_id("r2"), eur(1500), eur(2500)}});
  CHECK(world.page({})[1].payment_status == "refunded");
  CHECK(without_lines(world.page({})[1]) == without_lines(world.read("o1").value()));

  world.payment("pay2", {s::payment_requested{s::order_id("o2"), eur(2500), s::card_token("tok_decline")},
                         s::payment_declined{"card_declined"}});
  po::order_list_query placed_only;
  placed_only.status = "placed";
  rows = world.page(placed_only);
  REQUIRE(ids_of(rows) == std::vector<std::string>{"o2"});
  CHECK(rows[0].payment_status == "declined");
}

TEST_CASE("a payment redelivered, or its events applied before its order's, changes the list once and in order") {
  order_world world("olistpayonce");
  // The payment model may run ahead of the order model: its row waits for the order's.
  world.payment("pay1", {s::payment_requested{s::order_id("o1"), eur(2500), s::card_token("tok_ok")},
                         s::payment_authorized{s::charge_id("ch_1")}});
  CHECK(world.page({}).empty());
  world.order("o1", {placed("ada", "pay1")});
  CHECK(world.page({})[0].payment_status == "authorized");

  const auto history = world.store().read_stream(core::stream_id::parse(world.payment_category() + "-pay1").value(),
                                                 core::stream_version{1}, 100);
  world.payment("pay1", {s::payment_captured{eur(2500)}});
  const auto once = world.digest({"o1"});
  // The first two events again (a redelivery): the status does not go back to `requested`.
  world.list_payments().apply(history.value().events);
  world.payments().apply(history.value().events);
  CHECK(world.digest({"o1"}) == once);
  CHECK(world.page({})[0].payment_status == "captured");
}

TEST_CASE("applying a delivery twice changes the order models once") {
  order_world world("oonce");
  world.order("o1", {placed("ada", "pay1"), s::order_stock_reserved{}, s::order_cancelled{"customer", false}});
  const auto once = world.digest({"o1"});
  const auto history = world.store().read_stream(core::stream_id::parse(world.order_category() + "-o1").value(),
                                                 core::stream_version{1}, 100);
  world.detail().apply(history.value().events);
  world.list().apply(history.value().events);
  CHECK(world.digest({"o1"}) == once);
  CHECK(world.read("o1")->status == "cancelled");
}

TEST_CASE("rebuilt order models equal the incrementally built ones") {
  order_world world("orebuild");
  std::vector<std::string> ids;
  for (int i = 0; i < 9; ++i) {
    const auto id = fmt::format("o{:02}", i);
    const auto pay = "pay" + id;
    ids.push_back(id);
    std::vector<s::order_event> life{placed(i % 2 == 0 ? "ada" : "bob", pay, 100 + i)};
    if (i % 3 != 0) life.push_back(s::order_stock_reserved{});
    if (i % 3 == 2) life.push_back(s::order_paid{});
    world.order(id, life);
    if (i % 3 != 0) world.payment(pay, {s::payment_requested{s::order_id(id), eur(2 * (100 + i)), s::card_token("t")}});
  }
  world.payment("pay" + ids[2], {s::payment_authorized{s::charge_id("ch")}, s::payment_captured{eur(2 * 102)},
                                s::payment_refunded{s::refund_id("r"), eur(50), eur(50)}});
  world.payment("pay" + ids[4], {s::payment_declined{"card_declined"}});
  const auto before = world.digest(ids);
  const auto before_rows = world.page({});
  CHECK(before_rows.size() == 9);
  for (auto* target : {&world.detail(), &world.payments(), &world.list(), &world.list_payments()}) {
    projections::rebuild_options options;
    options.batch = 4;
    const auto report = projections::rebuild(*target, world.store(), options);
    CHECK(target->live_model() == report.new_model);
  }
  CHECK(world.digest(ids) == before);
  CHECK(world.page({}) == before_rows);
}
