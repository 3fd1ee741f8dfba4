// decide() for every Product command and rule: what is accepted, the events it yields, and the
// stable code of every refusal.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "commands/product/product_limits.hpp"
#include "tests/unit/product_fixtures.hpp"

using namespace cqrs::tests::product;
using p::errc;

namespace {

const p::product_state nothing = p::product_aggregate::initial_state();

s::create_product create_with_sku(std::string sku) { return create(std::move(sku)); }

s::create_product create_with_name(std::string name) {
  auto c = create();
  c.name = std::move(name);
  return c;
}

s::create_product create_with_price(s::money price) {
  auto c = create();
  c.price = std::move(price);
  return c;
}

}  // namespace

TEST_CASE("creating a product yields product.created with every field of the command") {
  const auto d = decide(nothing, create("SKU-1", 10));
  CHECK(only_event(d) == s::product_event{s::product_created{s::sku("SKU-1"), "Teapot", "Holds tea", eur(1999), 10}});
}

TEST_CASE("creating a product that exists is refused with product.already_exists") {
  CHECK(code_of(decide(product_with(10), create())) == errc::product_already_exists);
}

TEST_CASE("a product may start with no stock but not with negative or unbounded stock") {
  CHECK(decide(nothing, create("SKU-1", 0)).accepted());
  CHECK(code_of(decide(nothing, create("SKU-1", -1))) == errc::invalid_quantity);
  CHECK(code_of(decide(nothing, create("SKU-1", p::limits::max_quantity + 1))) == errc::invalid_quantity);
}

TEST_CASE("a SKU is upper-case letters, digits and . _ - starting with a letter or digit") {
  for (const std::string& good : std::vector<std::string>{"A", "SKU-1", "0_X.Y-Z", std::string(p::limits::max_sku_length, 'Q')}) {
    CAPTURE(good);
    CHECK(decide(nothing, create_with_sku(good)).accepted());
  }
  for (const std::string& bad : std::vector<std::string>{"", "sku-1", "-SKU", "SKU 1", "SKU/1", "SKÜ", std::string(p::limits::max_sku_length + 1, 'Q')}) {
    CAPTURE(bad);
    CHECK(code_of(decide(nothing, create_with_sku(bad))) == errc::invalid_sku);
  }
}

TEST_CASE("a name is non-blank UTF-8 on one line and bounded") {
  CHECK(decide(nothing, create_with_name("Théière")).accepted());
  for (const std::string& bad : std::vector<std::string>{"", "   ", "two\nlines", "bad \xff byte", "\xc0\xaf", std::string(p::limits::max_name_length + 1, 'n')}) {
    CAPTURE(bad);
    CHECK(code_of(decide(nothing, create_with_name(bad))) == errc::invalid_name);
  }
}

TEST_CASE("a description is bounded UTF-8 and may be empty or span lines") {
  auto c = create();
  c.description = "";
  CHECK(decide(nothing, c).accepted());
  c.description = "line one\nline two";
  CHECK(decide(nothing, c).accepted());
  c.description = std::string(p::limits::max_description_length + 1, 'd');
  CHECK(code_of(decide(nothing, c)) == errc::invalid_description);
  c.description = "\xed\xa0\x80";  // a UTF-16 surrogate encoded as UTF-8
  CHECK(code_of(decide(nothing, c)) == errc::invalid_description);
}

TEST_CASE("a price is positive, bounded, in minor units of a three-letter currency") {
  CHECK(decide(nothing, create_with_price(eur(1))).accepted());
  CHECK(decide(nothing, create_with_price(eur(p::limits::max_price_minor))).accepted());
  CHECK(code_of(decide(nothing, create_with_price(eur(0)))) == errc::invalid_price);
  CHECK(code_of(decide(nothing, create_with_price(eur(-5)))) == errc::invalid_price);
  CHECK(code_of(decide(nothing, create_with_price(eur(p::limits::max_price_minor + 1)))) == errc::invalid_price);
  for (const std::string& bad : std::vector<std::string>{"", "eur", "EU", "EURO", "E1R"}) {
    CAPTURE(bad);
    CHECK(code_of(decide(nothing, create_with_price(s::money{100, s::currency_code(bad)}))) == errc::invalid_currency);
  }
}

TEST_CASE("every command but create is refused with product.not_found before the product exists") {
  const s::product_command commands[] = {
      s::update_product_details{"n", "d"}, s::change_product_price{eur(5)}, s::restock_product{units(1)},
      s::reserve_stock{rid("r1"), units(1)}, s::release_reservation{rid("r1")}, s::commit_reservation{rid("r1")},
      s::discontinue_product{"old"}};
  for (const auto& command : commands) CHECK(code_of(p::decide(nothing, command)) == errc::product_not_found);
}

TEST_CASE("updating details yields product.details_updated, and nothing when they are unchanged") {
  const auto state = product_with(10);
  CHECK(only_event(decide(state, s::update_product_details{"Kettle", "Boils"})) ==
        s::product_event{s::product_details_updated{"Kettle", "Boils"}});
  const auto same = decide(state, s::update_product_details{"Teapot", "Holds tea"});
  REQUIRE(same.accepted());
  CHECK(same.events().empty());
  CHECK(code_of(decide(state, s::update_product_details{" ", "x"})) == errc::invalid_name);
}

TEST_CASE("details of a discontinued product can still be corrected") {
  const auto state = product_with(10, {s::product_discontinued{"gone"}});
  CHECK(decide(state, s::update_product_details{"Teapot (old)", ""}).accepted());
}

TEST_CASE("changing the price yields product.price_changed, nothing when unchanged, refused when invalid") {
  const auto state = product_with(10);
  CHECK(only_event(decide(state, s::change_product_price{eur(2500)})) ==
        s::product_event{s::product_price_changed{eur(2500)}});
  CHECK(decide(state, s::change_product_price{s::money{1999, s::currency_code("USD")}}).accepted());
  CHECK(decide(state, s::change_product_price{eur(1999)}).events().empty());
  CHECK(code_of(decide(state, s::change_product_price{eur(0)})) == errc::invalid_price);
  CHECK(code_of(decide(state, s::change_product_price{s::money{100, s::currency_code("usd")}})) ==
        errc::invalid_currency);
}

TEST_CASE("restocking adds a positive, bounded quantity") {
  const auto state = product_with(10);
  CHECK(only_event(decide(state, s::restock_product{units(5)})) == s::product_event{s::product_restocked{units(5)}});
  CHECK(code_of(decide(state, s::restock_product{units(0)})) == errc::invalid_quantity);
  CHECK(code_of(decide(state, s::restock_product{units(-3)})) == errc::invalid_quantity);
  CHECK(code_of(decide(state, s::restock_product{units(p::limits::max_quantity + 1)})) == errc::invalid_quantity);
}

TEST_CASE("restocking past the stock limit is refused with product.stock_limit_exceeded") {
  auto state = product_with(0);
  state.on_hand = p::limits::max_on_hand - 1;
  CHECK(decide(state, s::restock_product{units(1)}).accepted());
  CHECK(code_of(decide(state, s::restock_product{units(2)})) == errc::stock_limit_exceeded);
}

TEST_CASE("reserving takes available stock, up to all of it") {
  const auto state = product_with(10, {s::stock_reserved{rid("a"), units(4)}});
  CHECK(only_event(decide(state, s::reserve_stock{rid("b"), units(6)})) ==
        s::product_event{s::stock_reserved{rid("b"), units(6)}});
  CHECK(code_of(decide(state, s::reserve_stock{rid("b"), units(7)})) == errc::insufficient_stock);
}

TEST_CASE("a reserved quantity is positive and bounded, a reservation id well-formed") {
  const auto state = product_with(10);
  CHECK(code_of(decide(state, s::reserve_stock{rid("r"), units(0)})) == errc::invalid_quantity);
  CHECK(code_of(decide(state, s::reserve_stock{rid("r"), units(-1)})) == errc::invalid_quantity);
  for (const std::string& bad : std::vector<std::string>{"", "has space", "slash/", std::string(p::limits::max_reservation_id_length + 1, 'r')}) {
    CAPTURE(bad);
    CHECK(code_of(decide(state, s::reserve_stock{rid(bad), units(1)})) == errc::invalid_reservation_id);
  }
}

TEST_CASE("a reservation id is used once, even after its reservation was released or committed") {
  const auto state = product_with(10, {s::stock_reserved{rid("open"), units(1)}, s::stock_reserved{rid("gone"), units(1)},
                                       s::reservation_released{rid("gone"), units(1)}});
  CHECK(code_of(decide(state, s::reserve_stock{rid("open"), units(1)})) == errc::reservation_id_already_used);
  CHECK(code_of(decide(state, s::reserve_stock{rid("gone"), units(1)})) == errc::reservation_id_already_used);
}

TEST_CASE("nothing is reserved, restocked or repriced on a discontinued product") {
  const auto state = product_with(10, {s::product_discontinued{"end of line"}});
  CHECK(code_of(decide(state, s::reserve_stock{rid("r"), units(1)})) == errc::product_discontinued);
  CHECK(code_of(decide(state, s::restock_product{units(1)})) == errc::product_discontinued);
  CHECK(code_of(decide(state, s::change_product_price{eur(1)})) == errc::product_discontinued);
}

TEST_CASE("releasing an open reservation gives its quantity back") {
  const auto state = product_with(10, {s::stock_reserved{rid("r"), units(3)}});
  CHECK(only_event(decide(state, s::release_reservation{rid("r")})) ==
        s::product_event{s::reservation_released{rid("r"), units(3)}});
}

TEST_CASE("committing an open reservation makes its quantity leave") {
  const auto state = product_with(10, {s::stock_reserved{rid("r"), units(3)}});
  CHECK(only_event(decide(state, s::commit_reservation{rid("r")})) ==
        s::product_event{s::reservation_committed{rid("r"), units(3)}});
}

TEST_CASE("releasing or committing a closed reservation is refused with product.reservation_closed") {
  const auto state = product_with(10, {s::stock_reserved{rid("a"), units(1)}, s::reservation_released{rid("a"), units(1)},
                                       s::stock_reserved{rid("b"), units(1)}, s::reservation_committed{rid("b"), units(1)}});
  for (const auto* id : {"a", "b"}) {
    CHECK(code_of(decide(state, s::release_reservation{rid(id)})) == errc::reservation_closed);
    CHECK(code_of(decide(state, s::commit_reservation{rid(id)})) == errc::reservation_closed);
  }
}

TEST_CASE("releasing or committing an unknown reservation is refused with product.reservation_not_found") {
  const auto state = product_with(10);
  CHECK(code_of(decide(state, s::release_reservation{rid("nope")})) == errc::reservation_not_found);
  CHECK(code_of(decide(state, s::commit_reservation{rid("nope")})) == errc::reservation_not_found);
  CHECK(code_of(decide(state, s::commit_reservation{rid("")})) == errc::invalid_reservation_id);
}

TEST_CASE("reservations made before discontinuing can still be released and committed") {
  const auto state = product_with(10, {s::stock_reserved{rid("a"), units(1)}, s::stock_reserved{rid("b"), units(1)},
                                       s::product_discontinued{""}});
  CHECK(decide(state, s::release_reservation{rid("a")}).accepted());
  CHECK(decide(state, s::commit_reservation{rid("b")}).accepted());
}

TEST_CASE("discontinuing yields product.discontinued once; again changes nothing") {
  const auto state = product_with(10);
  CHECK(only_event(decide(state, s::discontinue_product{"replaced"})) ==
        s::product_event{s::product_discontinued{"replaced"}});
  const auto again = decide(product_with(10, {s::product_discontinued{"x"}}), s::discontinue_product{"y"});
  REQUIRE(again.accepted());
  CHECK(again.events().empty());
  CHECK(code_of(decide(state, s::discontinue_product{std::string(p::limits::max_reason_length + 1, 'r')})) ==
        errc::invalid_reason);
}

TEST_CASE("when several values are wrong the first in the command's field order is reported") {
  auto c = create("bad sku");
  c.name = "";
  c.price = eur(0);
  CHECK(code_of(decide(nothing, c)) == errc::invalid_sku);
}
