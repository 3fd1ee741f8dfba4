// The order fulfilment saga's decisions, without a database: each input (an event, an effect's
// answer, the deadline) and what the saga asks for next.

#include <doctest/doctest.h>

#include <algorithm>

#include "commands/processes/order_fulfilment/order_fulfilment.hpp"
#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"

namespace cqrs::tests::processes {

namespace {

namespace rt = commands::processes;
namespace of = commands::processes::order_fulfilment;
namespace s = cqrs::schemas;
using namespace std::chrono_literals;

const std::string order_id = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
const std::string payment_id = "pay0190";

template <typename Event>
core::recorded_event recorded(const std::string& stream, const Event& event) {
  const auto encoded = s::encode(event);
  core::recorded_event out{{}, core::stream_id::parse(stream).value(), core::stream_version{1}, core::event_id::generate()};
  out.type = encoded.type;
  out.schema_version = encoded.schema_version;
  out.payload = encoded.data;
  return out;
}

core::recorded_event order_event(const s::order_event& e) { return recorded("order-" + order_id, e); }
core::recorded_event payment_event(const s::payment_event& e) { return recorded("payment-" + payment_id, e); }

s::order_placed placed() {
  const s::money price{1250, s::currency_code("EUR")};
  return s::order_placed{s::customer_id("u1"),
                         {s::order_line{s::product_id("p1"), s::quantity(2), price}},
                         s::money{2500, s::currency_code("EUR")},
                         s::shipping_address{"1 Main St", "Paris", "75001", "FR"},
                         s::payment_id(payment_id)};
}

// A process as the runtime would keep it between reactions.
struct saga_run {
  of::order_fulfilment saga{15min};
  std::optional<rt::instance_view> current;

  rt::reaction event(const core::recorded_event& e) {
    auto r = saga.on_event(current, e);
    REQUIRE(r.has_value());
    keep(*r);
    return *r;
  }
  rt::reaction effect(const std::string& key, std::string_view name, const std::string& result,
                      const std::string& payload = "{}") {
    auto r = saga.on_effect(*current, {key, std::string(name), payload, result});
    REQUIRE(r.has_value());
    keep(*r);
    return *r;
  }
  void keep(const rt::reaction& r) { current = rt::instance_view{order_id, r.state, r.step, r.finished}; }

  // Placed, reserved, payment requested: the charge is asked for.
  rt::reaction until_charging(const std::string& card);
};

s::payment_requested requested(const std::string& card) {
  return s::payment_requested{s::order_id(order_id), s::money{2500, s::currency_code("EUR")}, s::card_token(card)};
}

rt::reaction saga_run::until_charging(const std::string& card) {
  event(order_event(placed()));
  effect("reserve", of::effect::reserve, "done");
  event(order_event(s::order_stock_reserved{}));
  return event(payment_event(requested(card)));
}

std::vector<std::string> command_types(const rt::reaction& r) {
  std::vector<std::string> out;
  for (const auto& c : r.commands) out.push_back(c.command.type);
  return out;
}

std::vector<std::string> effect_names(const rt::reaction& r) {
  std::vector<std::string> out;
  for (const auto& e : r.effects) out.push_back(e.name);
  return out;
}

using strings = std::vector<std::string>;

}  // namespace

TEST_CASE("order fulfilment: an order placed, reserved, charged, captured and committed is paid") {
  saga_run run;
  auto r = run.event(order_event(placed()));
  CHECK(effect_names(r) == strings{"stock.reserve"});
  REQUIRE(r.set_deadlines.size() == 1);
  CHECK(r.set_deadlines[0].after == 15min);
  CHECK(r.aliases == strings{"payment:" + payment_id});
  CHECK(r.step == "reserving_stock");

  r = run.effect("reserve", of::effect::reserve, "done");
  CHECK(command_types(r) == strings{"order.mark_stock_reserved"});
  CHECK(r.commands[0].target.str() == "order-" + order_id);

  r = run.event(order_event(s::order_stock_reserved{}));
  CHECK(r.effects.empty());  // no card token yet
  CHECK(r.step == "awaiting_payment_request");

  r = run.event(payment_event(s::payment_requested{s::order_id(order_id), s::money{2500, s::currency_code("EUR")},
                                                   s::card_token("tok_ok")}));
  REQUIRE(effect_names(r) == strings{"provider.charge"});
  CHECK_FALSE(r.effects[0].limited);  // only the deadline ends a charge's retries
  CHECK(r.effects[0].payload.find("tok_ok") != std::string::npos);
  CHECK(r.step == "charging");

  r = run.effect("charge", of::effect::charge, "authorized:ch_1");
  CHECK(command_types(r) == strings{"payment.authorize"});
  CHECK(r.commands[0].target.str() == "payment-" + payment_id);

  r = run.event(payment_event(s::payment_authorized{s::charge_id("ch_1")}));
  CHECK(effect_names(r) == strings{"provider.capture"});
  r = run.effect("capture", of::effect::capture, "captured:ch_1");
  CHECK(command_types(r) == strings{"payment.capture"});

  r = run.event(payment_event(s::payment_captured{s::money{2500, s::currency_code("EUR")}}));
  CHECK(effect_names(r) == strings{"stock.commit"});
  CHECK(r.clear_deadlines == strings{"payment"});
  r = run.effect("commit", of::effect::commit, "done");
  CHECK(command_types(r) == strings{"order.mark_paid"});

  r = run.event(order_event(s::order_paid{}));
  CHECK(r.step == "paid");
  CHECK(r.finished);
}

TEST_CASE("order fulfilment: a product out of stock rejects the order and nothing is charged") {
  saga_run run;
  run.event(order_event(placed()));
  run.event(payment_event(s::payment_requested{s::order_id(order_id), s::money{2500, s::currency_code("EUR")},
                                               s::card_token("tok_ok")}));
  auto r = run.effect("reserve", of::effect::reserve, "product.insufficient_stock (p1)");
  CHECK(command_types(r) == strings{"order.reject"});
  CHECK(r.effects.empty());
  r = run.event(order_event(s::order_rejected{"product.insufficient_stock (p1)"}));
  CHECK(command_types(r) == strings{"payment.fail"});
  CHECK(r.effects.empty());
  CHECK(r.finished);
}

TEST_CASE("order fulfilment: a decline releases the stock, then fails the order") {
  saga_run run;
  run.until_charging("tok_decline");
  auto r = run.effect("charge", of::effect::charge, "declined:card_declined");
  CHECK(command_types(r) == strings{"payment.decline"});
  r = run.event(payment_event(s::payment_declined{"card_declined"}));
  CHECK(effect_names(r) == strings{"stock.release"});
  r = run.effect("release", of::effect::release, "done");
  CHECK(command_types(r) == strings{"order.mark_payment_failed"});
  r = run.event(order_event(s::order_payment_failed{"declined: card_declined"}));
  CHECK(r.finished);
}

TEST_CASE("order fulfilment: the deadline expires the order, fails the payment and reconciles the charge") {
  saga_run run;
  run.until_charging("tok_ok");
  auto r = run.saga.on_deadline(*run.current, "payment");
  REQUIRE(r.has_value());
  run.keep(*r);
  CHECK(r->cancel_effects == strings{"charge", "capture"});
  CHECK(command_types(*r) == strings{"order.expire", "payment.fail"});
  // The stock is given back before the reconciliation, which needs the card processor.
  CHECK(effect_names(*r) == strings{"stock.release", "provider.reconcile"});
  // The payment fails; the order was expired, not failed.
  auto failed = run.event(payment_event(s::payment_failed{"payment deadline passed"}));
  CHECK(failed.effects.empty());
  auto released = run.effect("release", of::effect::release, "done");
  CHECK(released.commands.empty());
  CHECK(run.event(order_event(s::order_expired{})).finished);
}

// The deadline fires while the charge's authorization is on its way: the saga has asked for the
// expiry but has not seen order.expired yet. The authorization must not be captured (the
// reconciliation voids it, and a capture of the voided charge would be refused and hold the
// stock's release behind it).
TEST_CASE("order fulfilment: an authorization arriving after the deadline is not captured; the stock is released") {
  saga_run run;
  run.until_charging("tok_ok");
  auto deadline = run.saga.on_deadline(*run.current, "payment");
  REQUIRE(deadline.has_value());
  run.keep(*deadline);
  CHECK(effect_names(*deadline) == strings{"stock.release", "provider.reconcile"});
  auto r = run.event(payment_event(s::payment_authorized{s::charge_id("ch_7")}));
  CHECK(r.effects.empty());
  CHECK(r.commands.empty());
  r = run.effect("release", of::effect::release, "done");
  CHECK(r.commands.empty());
  CHECK(run.event(order_event(s::order_expired{})).finished);
}

// Likewise a capture recorded after the deadline: no stock is committed for the order being
// expired (the reconciliation refunds the charge); its reservation is released (from the deadline on).
TEST_CASE("order fulfilment: a capture arriving after the deadline commits no stock; the expired order releases it") {
  saga_run run;
  run.until_charging("tok_ok");
  auto deadline = run.saga.on_deadline(*run.current, "payment");
  REQUIRE(deadline.has_value());
  run.keep(*deadline);
  auto r = run.event(payment_event(s::payment_captured{s::money{2500, s::currency_code("EUR")}}));
  CHECK(r.effects.empty());
  CHECK(r.commands.empty());
  r = run.event(order_event(s::order_expired{}));
  CHECK(r.effects.empty());  // released at the deadline already
  CHECK(run.effect("release", of::effect::release, "done").finished);
}

// A decline arriving after the deadline keeps the deadline as the failure: the order is expired,
// not also failed.
TEST_CASE("order fulfilment: a decline arriving after the deadline does not fail the expiring order") {
  saga_run run;
  run.until_charging("tok_decline");
  auto deadline = run.saga.on_deadline(*run.current, "payment");
  REQUIRE(deadline.has_value());
  run.keep(*deadline);
  auto r = run.event(payment_event(s::payment_declined{"card_declined"}));
  CHECK(r.effects.empty());
  r = run.effect("release", of::effect::release, "done");
  CHECK(r.commands.empty());
}

TEST_CASE("order fulfilment: a paid order's deadline does nothing; its cancellation refunds it") {
  saga_run run;
  run.until_charging("tok_ok");
  run.event(payment_event(s::payment_authorized{s::charge_id("ch_9")}));
  run.event(payment_event(s::payment_captured{s::money{2500, s::currency_code("EUR")}}));
  run.effect("commit", of::effect::commit, "done");
  run.event(order_event(s::order_paid{}));
  CHECK_FALSE(run.saga.on_deadline(*run.current, "payment").has_value());
  auto r = run.event(order_event(s::order_cancelled{"customer", true}));
  REQUIRE(effect_names(r) == strings{"provider.refund"});
  CHECK(r.effects[0].payload.find("ch_9") != std::string::npos);
  r = run.effect("refund:cancel", of::effect::refund, "refunded:ch_9", r.effects[0].payload);
  CHECK(command_types(r) == strings{"payment.refund", "order.record_refund"});
}

TEST_CASE("order fulfilment: payment events are routed by the payment's alias, requests by their order") {
  const of::order_fulfilment saga{15min};
  const auto placed_route = saga.route_of(order_event(placed()));
  REQUIRE(placed_route);
  CHECK(placed_route->process_id == order_id);
  CHECK(placed_route->starts);
  const auto requested = saga.route_of(payment_event(
      s::payment_requested{s::order_id(order_id), s::money{1, s::currency_code("EUR")}, s::card_token("tok_ok")}));
  REQUIRE(requested);
  CHECK(requested->process_id == order_id);
  CHECK(requested->starts);
  const auto authorized = saga.route_of(payment_event(s::payment_authorized{s::charge_id("ch")}));
  REQUIRE(authorized);
  CHECK(authorized->by_alias);
  CHECK(authorized->process_id == "payment:" + payment_id);
  CHECK_FALSE(saga.route_of(recorded("product-p1", s::order_event{s::order_paid{}})).has_value());
}

}  // namespace cqrs::tests::processes
