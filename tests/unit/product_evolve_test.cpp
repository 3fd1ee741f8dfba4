// evolve(): how each Product event changes the state, and the snapshot of that state.

#include <doctest/doctest.h>

#include "tests/unit/product_fixtures.hpp"

using namespace cqrs::tests::product;

TEST_CASE("product.created makes the product exist with its catalog data and initial stock") {
  const auto state = product_with(7);
  CHECK(state.exists);
  CHECK(state.code == s::sku("SKU-1"));
  CHECK(state.name == "Teapot");
  CHECK(state.description == "Holds tea");
  CHECK(state.price == eur(1999));
  CHECK(state.on_hand == 7);
  CHECK(state.reserved == 0);
  CHECK(state.available() == 7);
  CHECK_FALSE(state.discontinued);
}

TEST_CASE("product.details_updated and product.price_changed replace catalog data only") {
  const auto state = product_with(7, {s::product_details_updated{"Kettle", "Boils"}, s::product_price_changed{eur(5)}});
  CHECK(state.name == "Kettle");
  CHECK(state.description == "Boils");
  CHECK(state.price == eur(5));
  CHECK(state.on_hand == 7);
}

TEST_CASE("product.restocked adds to stock on hand") {
  CHECK(product_with(7, {s::product_restocked{units(3)}}).on_hand == 10);
}

TEST_CASE("product.stock_reserved holds units back without moving them") {
  const auto state = product_with(7, {s::stock_reserved{rid("r"), units(3)}});
  CHECK(state.on_hand == 7);
  CHECK(state.reserved == 3);
  CHECK(state.available() == 4);
  CHECK(state.open_reservations.at(rid("r")) == 3);
  CHECK(state.reservation_id_used(rid("r")));
}

TEST_CASE("product.reservation_released gives the units back to available stock") {
  const auto state = product_with(7, {s::stock_reserved{rid("r"), units(3)}, s::reservation_released{rid("r"), units(3)}});
  CHECK(state.on_hand == 7);
  CHECK(state.reserved == 0);
  CHECK(state.open_reservations.empty());
  CHECK(state.closed_reservations.contains(rid("r")));
}

TEST_CASE("product.reservation_committed makes the units leave stock on hand") {
  const auto state = product_with(7, {s::stock_reserved{rid("r"), units(3)}, s::reservation_committed{rid("r"), units(3)}});
  CHECK(state.on_hand == 4);
  CHECK(state.reserved == 0);
  CHECK(state.available() == 4);
  CHECK(state.closed_reservations.contains(rid("r")));
}

TEST_CASE("product.discontinued marks the product discontinued and keeps its stock") {
  const auto state = product_with(7, {s::stock_reserved{rid("r"), units(2)}, s::product_discontinued{"old"}});
  CHECK(state.discontinued);
  CHECK(state.on_hand == 7);
  CHECK(state.reserved == 2);
}

TEST_CASE("a snapshot of the state reads back equal") {
  const auto state = product_with(7, {s::stock_reserved{rid("a"), units(2)}, s::stock_reserved{rid("b"), units(1)},
                                      s::reservation_committed{rid("b"), units(1)}, s::product_discontinued{"x"}});
  const auto stored = p::encode_snapshot(state);
  const auto loaded = p::decode_snapshot(p::product_aggregate::snapshot_schema_version, stored);
  REQUIRE(loaded.has_value());
  CHECK(*loaded == state);
}

TEST_CASE("a snapshot of an unknown schema version is ignored, so that the stream is replayed instead") {
  const auto stored = p::encode_snapshot(product_with(1));
  CHECK_FALSE(p::decode_snapshot(p::product_aggregate::snapshot_schema_version + 1, stored).has_value());
}

TEST_CASE("product.created claims its SKU; no other event claims anything") {
  const auto claims = p::product_aggregate::claims(s::product_created{s::sku("SKU-9"), "n", "", eur(1), 0});
  REQUIRE(claims.size() == 1);
  CHECK(claims[0].scope == "product.sku");
  CHECK(claims[0].value == "SKU-9");
  CHECK(p::product_aggregate::claims(s::product_restocked{units(1)}).empty());
  CHECK(p::product_aggregate::claim_refused(claims[0]).code == p::errc::sku_already_taken);
}
