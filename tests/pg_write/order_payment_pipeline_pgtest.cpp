// The Order and Payment aggregates in the command pipeline against PostgreSQL: commands decided
// on stored streams (snapshots included), refusals as values, answers that change nothing.

#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "commands/order/order_pipeline.hpp"
#include "commands/payment/payment_pipeline.hpp"
#include "tests/pg_write/write_fixture.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;

namespace {

schemas::money eur(std::int64_t minor) { return schemas::money{minor, schemas::currency_code("EUR")}; }

template <typename Outcome>
bool accepted_with(const Outcome& outcome, std::size_t events) {
  const auto* ok = std::get_if<commands::accepted>(&outcome);
  return ok != nullptr && ok->event_ids.size() == events;
}

template <typename Rejection, typename Outcome>
std::optional<decltype(Rejection::code)> refusal(const Outcome& outcome) {
  const auto* no = std::get_if<commands::rejected<Rejection>>(&outcome);
  if (no == nullptr) return std::nullopt;
  return no->why.code;
}

}  // namespace

TEST_CASE("an order is placed, reserved, paid and refunded through the pipeline; a wrong command is invalid_transition") {
  auto store = make_store();
  commands::order::order_pipeline orders(*store, {.snapshot_every = 2});
  const auto stream = core::stream_id::trusted("order-" + run_id() + "_o1");
  const schemas::place_order place{schemas::customer_id("u-1"),
                                   {schemas::order_line{schemas::product_id("p-1"), schemas::quantity(2), eur(500)}},
                                   schemas::shipping_address{"1 Main Street", "Lyon", "69001", "FR"},
                                   schemas::payment_id("pay-1"),
                                   schemas::card_token("tok_1")};
  CHECK(accepted_with(orders.handle({stream, place, as("customer")}), 1));
  CHECK(refusal<commands::order::rejection>(orders.handle({stream, schemas::ship_order{}, as("admin")})) ==
        commands::order::errc::invalid_transition);
  CHECK(accepted_with(orders.handle({stream, schemas::mark_order_stock_reserved{}, as("saga")}), 1));
  CHECK(accepted_with(orders.handle({stream, schemas::mark_order_paid{}, as("saga")}), 1));
  CHECK(accepted_with(orders.handle({stream, schemas::record_order_refund{schemas::refund_id("r1"), eur(400)}, as("saga")}), 1));
  CHECK(accepted_with(orders.handle({stream, schemas::record_order_refund{schemas::refund_id("r1"), eur(400)}, as("saga")}), 0));
  CHECK(refusal<commands::order::rejection>(
            orders.handle({stream, schemas::record_order_refund{schemas::refund_id("r2"), eur(601)}, as("saga")})) ==
        commands::order::errc::refund_exceeds_total);
  const auto loaded = orders.load(stream);
  CHECK(loaded.snapshot_version.has_value());  // read from a snapshot written on the way
  CHECK(loaded.state.status == commands::order::order_status::partially_refunded);
  CHECK(loaded.state.refunded_minor == 400);
  CHECK(count_of(whole_stream(*store, stream), "order.refunded") == 1);
}

TEST_CASE("a payment authorized twice records one authorization; refunds stop at the captured amount") {
  auto store = make_store();
  commands::payment::payment_pipeline payments(*store, {.snapshot_every = 3});
  const auto stream = core::stream_id::trusted("payment-" + run_id() + "_p1");
  CHECK(accepted_with(payments.handle({stream, schemas::request_payment{schemas::order_id("o1"), eur(1000),
                                                                        schemas::card_token("tok_1")},
                                       as("saga")}),
                      1));
  CHECK(accepted_with(payments.handle({stream, schemas::authorize_payment{schemas::charge_id("ch_1")}, as("webhook")}), 1));
  CHECK(accepted_with(payments.handle({stream, schemas::authorize_payment{schemas::charge_id("ch_1")}, as("saga")}), 0));
  CHECK(accepted_with(payments.handle({stream, schemas::capture_payment{}, as("saga")}), 1));
  CHECK(accepted_with(payments.handle({stream, schemas::refund_payment{schemas::refund_id("r1"), eur(1000)}, as("saga")}), 1));
  CHECK(refusal<commands::payment::rejection>(
            payments.handle({stream, schemas::refund_payment{schemas::refund_id("r2"), eur(1)}, as("saga")})) ==
        commands::payment::errc::invalid_transition);
  const auto loaded = payments.load(stream);
  CHECK(loaded.state.status == commands::payment::payment_status::refunded);
  CHECK(count_of(whole_stream(*store, stream), "payment.authorized") == 1);
}
