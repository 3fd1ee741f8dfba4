// The order lifecycle: every (status, lifecycle event) pair the machine accepts, checked against
// a table written out here independently of the machine; and decide() refusing every command the
// status does not accept with invalid_transition naming the status.

#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "commands/order/order_aggregate.hpp"
#include "commands/order/order_lifecycle.hpp"

namespace s = cqrs::schemas;
namespace o = cqrs::commands::order;
using o::lifecycle_event;
using o::order_status;

namespace {

using st = order_status;
using ev = lifecycle_event;

// The expected lifecycle, from the design: (status, event) -> status; everything else refused.
const std::map<std::pair<st, ev>, st>& expected_table() {
  static const std::map<std::pair<st, ev>, st> table{
      {{st::none, ev::place}, st::placed},
      {{st::placed, ev::reserve_stock}, st::stock_reserved},
      {{st::placed, ev::reject}, st::rejected},
      {{st::placed, ev::cancel}, st::cancelled},
      {{st::placed, ev::expire}, st::expired},
      {{st::stock_reserved, ev::cancel}, st::cancelled},
      {{st::stock_reserved, ev::expire}, st::expired},
      {{st::stock_reserved, ev::pay}, st::paid},
      {{st::stock_reserved, ev::fail_payment}, st::payment_failed},
      {{st::paid, ev::cancel}, st::cancelled},
      {{st::paid, ev::ship}, st::shipped},
      {{st::shipped, ev::deliver}, st::delivered},
      {{st::paid, ev::request_refund}, st::paid},
      {{st::shipped, ev::request_refund}, st::shipped},
      {{st::delivered, ev::request_refund}, st::delivered},
      {{st::partially_refunded, ev::request_refund}, st::partially_refunded},
      {{st::paid, ev::record_full_refund}, st::refunded},
      {{st::shipped, ev::record_full_refund}, st::refunded},
      {{st::delivered, ev::record_full_refund}, st::refunded},
      {{st::partially_refunded, ev::record_full_refund}, st::refunded},
      {{st::cancelled, ev::record_full_refund}, st::refunded},
      {{st::paid, ev::record_partial_refund}, st::partially_refunded},
      {{st::shipped, ev::record_partial_refund}, st::partially_refunded},
      {{st::delivered, ev::record_partial_refund}, st::partially_refunded},
      {{st::partially_refunded, ev::record_partial_refund}, st::partially_refunded},
  };
  return table;
}

s::money eur(std::int64_t minor) { return s::money{minor, s::currency_code("EUR")}; }

s::place_order placement() {
  return s::place_order{s::customer_id("u-1"),
                        {s::order_line{s::product_id("p-1"), s::quantity(2), eur(500)}},
                        s::shipping_address{"1 Main Street", "Lyon", "69001", "FR"},
                        s::payment_id("pay-1"),
                        s::card_token("tok_1")};
}

// A command that is the lifecycle event `e` (for an order of total 1000).
s::order_command command_for(ev e) {
  switch (e) {
    case ev::place: return placement();
    case ev::reserve_stock: return s::mark_order_stock_reserved{};
    case ev::reject: return s::reject_order{"out of stock"};
    case ev::pay: return s::mark_order_paid{};
    case ev::fail_payment: return s::mark_order_payment_failed{"declined"};
    case ev::expire: return s::expire_order{};
    case ev::cancel: return s::cancel_order{"customer"};
    case ev::ship: return s::ship_order{};
    case ev::deliver: return s::deliver_order{};
    case ev::request_refund: return s::request_order_refund{s::refund_id("r-new"), eur(100)};
    case ev::record_full_refund: return s::record_order_refund{s::refund_id("r-full"), eur(1000)};
    case ev::record_partial_refund: return s::record_order_refund{s::refund_id("r-part"), eur(100)};
  }
  FAIL("unknown event");
  return {};
}

// An order of total 1000 in `status`, with no refund recorded (so a refund of 1000 is full),
// built by folding events: the cancelled one was cancelled after payment (a refund is due).
o::order_state order_in(st status) {
  if (status == st::none) return o::order_state{};
  auto state = o::evolve(o::order_state{}, s::order_placed{s::customer_id("u-1"), placement().lines, eur(1000),
                                           placement().address, s::payment_id("pay-1")});
  state.status = status;
  state.refund_needed = status == st::cancelled;
  return state;
}

}  // namespace

TEST_CASE("the lifecycle accepts exactly the expected (status, event) pairs, each to the expected status") {
  int accepted = 0;
  for (const auto from : o::all_statuses) {
    for (const auto event : o::all_lifecycle_events) {
      CAPTURE(o::to_string(from));
      CAPTURE(o::to_string(event));
      const auto expected = expected_table().find({from, event});
      const auto actual = o::next_status(from, event);
      if (expected == expected_table().end()) {
        CHECK_FALSE(actual.has_value());
      } else {
        REQUIRE(actual.has_value());
        CHECK(*actual == expected->second);
        ++accepted;
      }
    }
  }
  CHECK(accepted == static_cast<int>(expected_table().size()));
}

TEST_CASE("decide refuses every command the status does not accept with invalid_transition naming the status") {
  for (const auto from : o::all_statuses) {
    for (const auto event : o::all_lifecycle_events) {
      CAPTURE(o::to_string(from));
      CAPTURE(o::to_string(event));
      const auto decision = o::decide(order_in(from), command_for(event));
      const bool allowed = expected_table().contains({from, event});
      if (allowed) {
        REQUIRE(decision.accepted());
        REQUIRE(decision.events().size() == 1);
        // The event folds to the status the table says.
        CHECK(o::evolve(order_in(from), decision.events().front()).status == expected_table().at({from, event}));
      } else {
        REQUIRE_FALSE(decision.accepted());
        if (from == st::none) {
          CHECK(decision.rejection().code == o::errc::order_not_found);
        } else if (event == ev::place) {
          CHECK(decision.rejection().code == o::errc::order_already_exists);
        } else {
          CHECK(decision.rejection().code == o::errc::invalid_transition);
          CHECK(decision.rejection().detail.find(std::string(o::to_string(from))) != std::string::npos);
        }
      }
    }
  }
}

TEST_CASE("status names are the documented ones") {
  CHECK(o::to_string(st::stock_reserved) == "stock_reserved");
  CHECK(o::to_string(st::partially_refunded) == "partially_refunded");
  CHECK(o::to_string(st::payment_failed) == "payment_failed");
}
