#include <doctest/doctest.h>

#include <pqxx/pqxx>

#include "projections/dead_letters.hpp"
#include "projections/product/product_projections.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using cqrs::tests::projection_world;

namespace {

std::string on_hand(projection_world& world, const std::string& id) {
  return projections::read_product_detail(world.redis(), id, world.detail_name()).value().at("on_hand");
}

}  // namespace

TEST_CASE("a dead letter retried into Redis after a crash before it was marked retried applies once") {
  projection_world world("dlretry");
  const auto events = world.append("p1", {tests::created("SKU-p1", 1), tests::restocked(10), tests::restocked(100)});
  auto& detail = world.detail();
  detail.apply(std::span(events).first(1));
  detail.skip(events[1]);  // dead-lettered: its version passed without its change
  detail.apply(std::span(events).last(1));
  REQUIRE(on_hand(world, "p1") == "101");
  projections::dead_letter_store letters(tests::pg_url());
  letters.record(world.detail_name(), events[1], "cannot apply this yet", 3);
  const auto letter = letters.list(world.detail_name(), true).at(0);

  // The first retry's change lands, then the process dies before the letter is marked retried.
  detail.force_apply(events[1]);
  CHECK(on_hand(world, "p1") == "111");
  std::string error;
  CHECK(letters.retry(letter.id, detail, world.store(), error) == projections::retry_outcome::applied);
  CHECK(on_hand(world, "p1") == "111");
  CHECK(letters.retry(letter.id, detail, world.store(), error) == projections::retry_outcome::not_open);
  CHECK(detail.applied_version(world.stream("p1")).value() == 3);
}

TEST_CASE("a dead letter retried into PostgreSQL after a crash before it was marked retried applies once") {
  projection_world world("dlretrypg");
  const auto events = world.append("p1", {tests::created("SKU-p1", 1), tests::restocked(10), tests::restocked(100)});
  auto& catalog = world.catalog();
  catalog.apply(std::span(events).first(1));
  catalog.skip(events[1]);
  catalog.apply(std::span(events).last(1));
  pqxx::connection connection(tests::pg_url());
  const auto catalog_on_hand = [&] {
    pqxx::work tx(connection);
    return tx.exec_params1("SELECT on_hand FROM product_catalog_rows WHERE model = $1 AND product_id = 'p1'",
                           catalog.live_model())[0]
        .as<std::int64_t>();
  };
  REQUIRE(catalog_on_hand() == 101);
  projections::dead_letter_store letters(tests::pg_url());
  letters.record(world.catalog_name(), events[1], "cannot apply this yet", 3);
  const auto letter = letters.list(world.catalog_name(), true).at(0);

  catalog.force_apply(events[1]);
  CHECK(catalog_on_hand() == 111);
  std::string error;
  CHECK(letters.retry(letter.id, catalog, world.store(), error) == projections::retry_outcome::applied);
  CHECK(catalog_on_hand() == 111);
  CHECK(letters.retry(letter.id, catalog, world.store(), error) == projections::retry_outcome::not_open);
  CHECK(catalog.applied_version(world.stream("p1")).value() == 3);
}
