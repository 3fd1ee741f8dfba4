// decide() and evolve() of the Order aggregate: placing (every rule and the total), the path to
// paid, cancelling (refund due only after payment), refunds never above the total, refund ids
// used once, stable error codes, and the snapshot's round trip.

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "commands/order/order_aggregate.hpp"
#include "core/aggregate.hpp"

namespace s = cqrs::schemas;
namespace o = cqrs::commands::order;
using o::errc;
using o::order_status;

namespace {

using A = o::order_aggregate;

s::money eur(std::int64_t minor) { return s::money{minor, s::currency_code("EUR")}; }

s::order_line line(std::string product, std::int64_t units, s::money price = eur(250)) {
  return s::order_line{s::product_id(std::move(product)), s::quantity(units), std::move(price)};
}

s::place_order placement(std::vector<s::order_line> lines = {line("p-1", 2), line("p-2", 1, eur(500))}) {
  return s::place_order{s::customer_id("u-1"), std::move(lines), s::shipping_address{"1 Main Street", "Lyon", "69001", "FR"},
                        s::payment_id("pay-1"), s::card_token("tok_1")};
}

o::order_state after(o::order_state state, const std::vector<s::order_command>& commands) {
  for (const auto& command : commands) {
    const auto d = A::decide(state, command);
    REQUIRE(d.accepted());
    state = cqrs::core::apply_decision<A>(state, d);
  }
  return state;
}

o::order_state placed() { return after({}, {placement()}); }
o::order_state paid() { return after(placed(), {s::mark_order_stock_reserved{}, s::mark_order_paid{}}); }

errc code_of(const o::order_decision& d) {
  REQUIRE_FALSE(d.accepted());
  return d.rejection().code;
}

errc placing(s::place_order command) { return code_of(A::decide({}, command)); }

s::order_event only_event(const o::order_decision& d) {
  REQUIRE(d.accepted());
  REQUIRE(d.events().size() == 1);
  return d.events().front();
}

}  // namespace

TEST_CASE("placing an order records its lines, address, payment and total, never the card token") {
  const auto event = std::get<s::order_placed>(only_event(A::decide({}, placement())));
  CHECK(event.total == eur(1000));
  CHECK(event.lines.size() == 2);
  CHECK(event.payment == s::payment_id("pay-1"));
  const auto state = placed();
  CHECK(state.status == order_status::placed);
  CHECK(state.total == eur(1000));
  CHECK(state.customer == s::customer_id("u-1"));
  CHECK(s::encode(s::order_event{event}).data.find("tok_1") == std::string::npos);
}

TEST_CASE("placing refuses bad lines, currencies, addresses, ids and card tokens with stable codes") {
  CHECK(placing(placement({})) == errc::invalid_lines);
  std::vector<s::order_line> many;
  for (int i = 0; i < 51; ++i) many.push_back(line("p-" + std::to_string(i), 1));
  CHECK(placing(placement(many)) == errc::invalid_lines);
  many.pop_back();
  CHECK(A::decide({}, placement(many)).accepted());
  CHECK(placing(placement({line("p-1", 1), line("p-1", 2)})) == errc::duplicate_product);
  CHECK(placing(placement({line("p-1", 0)})) == errc::invalid_quantity);
  CHECK(placing(placement({line("p-1", 10'001)})) == errc::invalid_quantity);
  CHECK(A::decide({}, placement({line("p-1", 10'000)})).accepted());
  CHECK(placing(placement({line("", 1)})) == errc::invalid_product);
  CHECK(placing(placement({line("p-1", 1, eur(-1))})) == errc::invalid_price);
  CHECK(placing(placement({line("p-1", 1, s::money{1, s::currency_code("eur")})})) == errc::invalid_currency);
  CHECK(placing(placement({line("p-1", 1), line("p-2", 1, s::money{1, s::currency_code("USD")})})) ==
        errc::mixed_currencies);
  auto bad = placement();
  bad.address.city = "";
  CHECK(placing(bad) == errc::invalid_address);
  bad = placement();
  bad.address.line1 = std::string(201, 'x');
  CHECK(placing(bad) == errc::invalid_address);
  bad = placement();
  bad.card = s::card_token("");
  CHECK(placing(bad) == errc::invalid_card_token);
  bad = placement();
  bad.customer = s::customer_id("");
  CHECK(placing(bad) == errc::invalid_customer);
  bad = placement();
  bad.payment = s::payment_id("");
  CHECK(placing(bad) == errc::invalid_payment_id);
  CHECK(code_of(A::decide(placed(), placement())) == errc::order_already_exists);
  CHECK(code_of(A::decide({}, s::mark_order_paid{})) == errc::order_not_found);
}

TEST_CASE("cancelling: before payment no refund is due; after payment the whole amount is, recorded once") {
  const auto early = after(placed(), {s::cancel_order{"admin"}});
  CHECK(early.status == order_status::cancelled);
  CHECK_FALSE(early.refund_needed);
  CHECK(early.cancelled_by == "admin");
  CHECK(code_of(A::decide(early, s::record_order_refund{s::refund_id("r"), eur(1000)})) == errc::invalid_transition);
  CHECK(code_of(A::decide(placed(), s::cancel_order{"someone"})) == errc::invalid_cancelled_by);

  const auto cancelled = std::get<s::order_cancelled>(only_event(A::decide(paid(), s::cancel_order{"customer"})));
  CHECK(cancelled.refund_needed);
  const auto late = after(paid(), {s::cancel_order{"customer"}});
  CHECK(late.status == order_status::cancelled);
  CHECK(code_of(A::decide(late, s::record_order_refund{s::refund_id("r"), eur(400)})) == errc::invalid_transition);
  const auto refunded = after(late, {s::record_order_refund{s::refund_id("r"), eur(1000)}});
  CHECK(refunded.status == order_status::refunded);
  CHECK(refunded.refunded_minor == 1000);
}

TEST_CASE("refunds: requested and recorded never pass the total; partial then full; ids used once") {
  auto state = after(paid(), {s::ship_order{}, s::deliver_order{}});
  CHECK(state.status == order_status::delivered);
  state = after(state, {s::request_order_refund{s::refund_id("r1"), eur(600)}});
  CHECK(state.status == order_status::delivered);
  CHECK(state.requested_minor() == 600);
  CHECK(code_of(A::decide(state, s::request_order_refund{s::refund_id("r2"), eur(401)})) == errc::refund_exceeds_total);
  CHECK(code_of(A::decide(state, s::request_order_refund{s::refund_id("r1"), eur(5)})) == errc::refund_id_already_used);
  const auto same = A::decide(state, s::request_order_refund{s::refund_id("r1"), eur(600)});
  CHECK((same.accepted() && same.events().empty()));
  CHECK(code_of(A::decide(state, s::request_order_refund{s::refund_id("r2"), eur(0)})) == errc::invalid_amount);
  CHECK(code_of(A::decide(state, s::request_order_refund{s::refund_id("r2"), s::money{1, s::currency_code("USD")}})) ==
        errc::invalid_amount);

  const auto partial = std::get<s::order_refunded>(only_event(A::decide(state, s::record_order_refund{s::refund_id("r1"), eur(600)})));
  CHECK_FALSE(partial.full);
  CHECK(partial.refunded_total == eur(600));
  state = after(state, {s::record_order_refund{s::refund_id("r1"), eur(600)}});
  CHECK(state.status == order_status::partially_refunded);
  CHECK(state.requested_minor() == 0);
  const auto again = A::decide(state, s::record_order_refund{s::refund_id("r1"), eur(600)});
  CHECK((again.accepted() && again.events().empty()));
  CHECK(code_of(A::decide(state, s::record_order_refund{s::refund_id("r3"), eur(401)})) == errc::refund_exceeds_total);
  state = after(state, {s::request_order_refund{s::refund_id("r3"), eur(400)}, s::record_order_refund{s::refund_id("r3"), eur(400)}});
  CHECK(state.status == order_status::refunded);
  CHECK(state.refunded_minor == 1000);
  CHECK(code_of(A::decide(state, s::request_order_refund{s::refund_id("r4"), eur(1)})) == errc::invalid_transition);
}

TEST_CASE("reasons are checked; the order's errc numbers and names are stable and distinct") {
  CHECK(code_of(A::decide(placed(), s::reject_order{""})) == errc::invalid_reason);
  CHECK(after(placed(), {s::reject_order{"out of stock"}}).reason == "out of stock");
  CHECK(static_cast<int>(errc::invalid_transition) == 3);
  CHECK(static_cast<int>(errc::refund_id_already_used) == 20);
  CHECK(o::to_string(errc::invalid_transition) == "order.invalid_transition");
  std::set<std::string_view> names;
  for (int code = 1; code <= 20; ++code) {
    names.insert(o::to_string(static_cast<errc>(code)));
    (void)o::field_of(static_cast<errc>(code));
  }
  CHECK(names.size() == 20);
  CHECK(o::field_of(errc::invalid_card_token) == "card_token");
  CHECK(A::decode_rejection(A::encode_rejection({errc::refund_exceeds_total, "x"})) ==
        o::rejection{errc::refund_exceeds_total, "x"});
}

TEST_CASE("an order's snapshot reads back equal") {
  const auto state = after(paid(), {s::request_order_refund{s::refund_id("r1"), eur(100)},
                                    s::record_order_refund{s::refund_id("r0"), eur(50)}});
  const auto back = A::decode_snapshot(A::snapshot_schema_version, A::encode_snapshot(state));
  REQUIRE(back.has_value());
  CHECK(*back == state);
  CHECK_FALSE(A::decode_snapshot(2, A::encode_snapshot(state)).has_value());
}
