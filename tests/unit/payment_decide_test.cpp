// decide() and evolve() of the Payment aggregate: the statuses from requested to refunded, the
// same answer twice changing nothing (the order process and the card processor's webhook both
// report), refunds never above the captured amount, stable error codes, the snapshot.

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "commands/payment/payment_aggregate.hpp"
#include "commands/payment/payment_domain.hpp"
#include "core/aggregate.hpp"

namespace s = cqrs::schemas;
namespace p = cqrs::commands::payment;
using p::errc;
using p::payment_status;

namespace {

using A = p::payment_aggregate;

s::money eur(std::int64_t minor) { return s::money{minor, s::currency_code("EUR")}; }

s::request_payment request() { return s::request_payment{s::order_id("o-1"), eur(1000), s::card_token("tok_1")}; }

p::payment_state after(p::payment_state state, const std::vector<s::payment_command>& commands) {
  for (const auto& command : commands) {
    const auto d = A::decide(state, command);
    REQUIRE(d.accepted());
    state = cqrs::core::apply_decision<A>(state, d);
  }
  return state;
}

p::payment_state requested() { return after({}, {request()}); }
p::payment_state authorized() { return after(requested(), {s::authorize_payment{s::charge_id("ch_1")}}); }
p::payment_state captured() { return after(authorized(), {s::capture_payment{}}); }

errc code_of(const p::payment_decision& d) {
  REQUIRE_FALSE(d.accepted());
  return d.rejection().code;
}

bool changes_nothing(const p::payment_decision& d) { return d.accepted() && d.events().empty(); }

}  // namespace

TEST_CASE("a payment goes requested, pending, authorized, captured; each answer twice changes nothing") {
  auto state = requested();
  CHECK(state.status == payment_status::requested);
  CHECK(state.amount == eur(1000));
  state = after(state, {s::mark_payment_pending{s::charge_id("ch_1")}});
  CHECK(state.status == payment_status::requested);
  CHECK(state.pending);
  CHECK(changes_nothing(A::decide(state, s::mark_payment_pending{s::charge_id("ch_1")})));
  CHECK(code_of(A::decide(state, s::authorize_payment{s::charge_id("ch_2")})) == errc::charge_id_mismatch);
  state = after(state, {s::authorize_payment{s::charge_id("ch_1")}});
  CHECK(state.status == payment_status::authorized);
  CHECK_FALSE(state.pending);
  CHECK(changes_nothing(A::decide(state, s::authorize_payment{s::charge_id("ch_1")})));
  const auto capture = A::decide(state, s::capture_payment{});
  REQUIRE(capture.accepted());
  CHECK(std::get<s::payment_captured>(capture.events().front()).amount == eur(1000));
  state = after(state, {s::capture_payment{}});
  CHECK(state.status == payment_status::captured);
  CHECK(state.captured_minor == 1000);
  CHECK(changes_nothing(A::decide(state, s::capture_payment{})));
}

TEST_CASE("declined, failed and voided end a payment; other commands are invalid transitions naming the status") {
  const auto declined = after(requested(), {s::decline_payment{"insufficient_funds"}});
  CHECK(declined.status == payment_status::declined);
  CHECK(declined.reason == "insufficient_funds");
  CHECK(changes_nothing(A::decide(declined, s::decline_payment{"again"})));
  const auto late = A::decide(declined, s::authorize_payment{s::charge_id("ch_1")});
  CHECK(code_of(late) == errc::invalid_transition);
  CHECK(late.rejection().detail.find("declined") != std::string::npos);
  CHECK(after(authorized(), {s::void_payment{}}).status == payment_status::voided);
  CHECK(after(requested(), {s::void_payment{}}).status == payment_status::voided);
  CHECK(after(authorized(), {s::fail_payment{"capture refused"}}).status == payment_status::failed);
  CHECK(code_of(A::decide(captured(), s::void_payment{})) == errc::invalid_transition);
  CHECK(code_of(A::decide(captured(), s::decline_payment{"x"})) == errc::invalid_transition);
  CHECK(code_of(A::decide(requested(), s::capture_payment{})) == errc::invalid_transition);
  CHECK(code_of(A::decide(requested(), s::refund_payment{s::refund_id("r"), eur(1)})) == errc::invalid_transition);
  CHECK(code_of(A::decide(requested(), s::decline_payment{""})) == errc::invalid_reason);
  CHECK(code_of(A::decide({}, s::capture_payment{})) == errc::payment_not_found);
  CHECK(code_of(A::decide(requested(), request())) == errc::payment_already_exists);
}

TEST_CASE("requesting checks the order id, the amount and the card token") {
  auto bad = request();
  bad.amount = eur(0);
  CHECK(code_of(A::decide({}, bad)) == errc::invalid_amount);
  bad = request();
  bad.amount.currency = s::currency_code("E");
  CHECK(code_of(A::decide({}, bad)) == errc::invalid_currency);
  bad = request();
  bad.card = s::card_token("");
  CHECK(code_of(A::decide({}, bad)) == errc::invalid_card_token);
  bad = request();
  bad.order = s::order_id("");
  CHECK(code_of(A::decide({}, bad)) == errc::invalid_order_id);
}

TEST_CASE("refunds: partial ones keep captured, their sum never passes the captured amount, full ones end refunded") {
  auto state = after(captured(), {s::refund_payment{s::refund_id("r1"), eur(300)}});
  CHECK(state.status == payment_status::captured);
  CHECK(state.refunded_minor == 300);
  CHECK(changes_nothing(A::decide(state, s::refund_payment{s::refund_id("r1"), eur(300)})));
  CHECK(code_of(A::decide(state, s::refund_payment{s::refund_id("r1"), eur(200)})) == errc::refund_id_already_used);
  CHECK(code_of(A::decide(state, s::refund_payment{s::refund_id("r2"), eur(701)})) == errc::refund_exceeds_captured);
  CHECK(code_of(A::decide(state, s::refund_payment{s::refund_id("r2"), s::money{5, s::currency_code("USD")}})) ==
        errc::invalid_amount);
  const auto last = A::decide(state, s::refund_payment{s::refund_id("r2"), eur(700)});
  REQUIRE(last.accepted());
  CHECK(std::get<s::payment_refunded>(last.events().front()).refunded_total == eur(1000));
  state = after(state, {s::refund_payment{s::refund_id("r2"), eur(700)}});
  CHECK(state.status == payment_status::refunded);
  CHECK(changes_nothing(A::decide(state, s::refund_payment{s::refund_id("r2"), eur(700)})));
  CHECK(code_of(A::decide(state, s::refund_payment{s::refund_id("r3"), eur(1)})) == errc::invalid_transition);
}

TEST_CASE("payment errc numbers and names are stable and distinct; snapshot and state rendering") {
  std::set<std::string_view> names;
  for (int code = 1; code <= 13; ++code) {
    names.insert(p::to_string(static_cast<errc>(code)));
    (void)p::field_of(static_cast<errc>(code));
  }
  CHECK(names.size() == 13);
  CHECK(p::to_string(errc::refund_exceeds_captured) == "payment.refund_exceeds_captured");
  const auto state = after(captured(), {s::refund_payment{s::refund_id("r1"), eur(300)}});
  const auto back = A::decode_snapshot(A::snapshot_schema_version, A::encode_snapshot(state));
  REQUIRE(back.has_value());
  CHECK(*back == state);
  const auto shown = p::to_json(state);
  CHECK(shown.at("status") == "captured");
  CHECK(shown.at("refunded_minor") == 300);
  CHECK_FALSE(shown.contains("card_token"));
}
