#include <set>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include "projections/product/product_projections.hpp"
#include "projections/status.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using cqrs::tests::projection_world;

namespace {

void project(projection_world& world, const std::string& id, const std::vector<schemas::product_event>& events) {
  const auto stored = world.append(id, events);
  world.detail().apply(stored);
  world.catalog().apply(stored);
}

std::vector<std::string> ids_of(const std::vector<projections::catalog_entry>& entries) {
  std::vector<std::string> ids;
  for (const auto& entry : entries) ids.push_back(entry.product_id);
  return ids;
}

std::vector<projections::catalog_entry> query(const projection_world& world, projections::catalog_query q) {
  q.projection = world.catalog_name();
  pqxx::connection connection(tests::pg_url());
  pqxx::work tx(connection);
  return projections::query_catalog(tx, q);
}

}  // namespace

TEST_CASE("the product detail holds catalog data, available stock and stream version, and is found by SKU") {
  projection_world world("detail");
  project(world, "p1",
          {tests::created("SKU-D1", 7, 1999), tests::reserved("r", 2),
           schemas::product_details_updated{"Lamp", "A brass lamp"}});
  const auto detail = projections::read_product_detail(world.redis(), "p1", world.detail_name()).value();
  CHECK(detail.at("name") == "Lamp");
  CHECK(detail.at("description") == "A brass lamp");
  CHECK(detail.at("price_minor") == "1999");
  CHECK(detail.at("currency") == "EUR");
  CHECK(detail.at("available") == "5");
  CHECK(detail.at("version") == "3");
  CHECK(projections::find_product_id_by_sku(world.redis(), "SKU-D1", world.detail_name()) == "p1");
  CHECK_FALSE(projections::read_product_detail(world.redis(), "nope", world.detail_name()).has_value());
  CHECK_FALSE(projections::find_product_id_by_sku(world.redis(), "SKU-none", world.detail_name()).has_value());
}

TEST_CASE("the catalog searches name and description, filters by price, stock and status, and pages by key") {
  projection_world world("catalog");
  project(world, "a", {tests::created("SKU-A", 5, 500), schemas::product_details_updated{"Red chair", "oak wood"}});
  project(world, "b", {tests::created("SKU-B", 0, 1500), schemas::product_details_updated{"Blue chair", "pine"}});
  project(world, "c", {tests::created("SKU-C", 9, 2500), schemas::product_details_updated{"Oak table", "heavy"}});
  project(world, "d", {tests::created("SKU-D", 9, 700), schemas::product_discontinued{"old"}});

  CHECK(ids_of(query(world, {})) == std::vector<std::string>{"a", "b", "c"});
  projections::catalog_query text;
  text.text = "oak";
  CHECK(ids_of(query(world, text)) == std::vector<std::string>{"a", "c"});
  projections::catalog_query price;
  price.min_price_minor = 1000;
  price.max_price_minor = 2000;
  CHECK(ids_of(query(world, price)) == std::vector<std::string>{"b"});
  projections::catalog_query stock;
  stock.in_stock_only = true;
  stock.include_discontinued = true;
  CHECK(ids_of(query(world, stock)) == std::vector<std::string>{"a", "c", "d"});
  projections::catalog_query page;
  page.limit = 2;
  CHECK(ids_of(query(world, page)) == std::vector<std::string>{"a", "b"});
  page.after_product_id = "b";
  CHECK(ids_of(query(world, page)) == std::vector<std::string>{"c"});
}

TEST_CASE("the catalog's search column has a GIN index and the low-stock view exists") {
  pqxx::connection connection(tests::pg_url());
  pqxx::work tx(connection);
  const auto index = tx.exec("SELECT indexdef FROM pg_indexes WHERE indexname = 'product_catalog_rows_search_idx'");
  REQUIRE(index.size() == 1);
  CHECK(std::string(index[0][0].c_str()).find("gin (search)") != std::string::npos);
  CHECK_NOTHROW(tx.exec("SELECT product_id, available FROM product_low_stock LIMIT 1"));
}

TEST_CASE("the status shows each projection's exact lag in events and its live model") {
  projection_world world("status");
  const auto events = world.append("p1", {tests::created("SKU-S1", 1), tests::restocked(2), tests::restocked(3)});
  projections::runtime rt({tests::pg_url(), tests::redis_url(), world.scope()});
  // Every projection of the scope has its line, the two Product models among them.
  std::set<std::string> expected;
  for (const auto& target : world.targets().all()) expected.insert(target->info().name);
  REQUIRE(expected.contains(world.detail_name()));
  REQUIRE(expected.contains(world.catalog_name()));
  const auto names = [](const std::vector<projections::projection_status>& statuses) {
    std::set<std::string> out;
    for (const auto& status : statuses) out.insert(status.info.name);
    return out;
  };

  const auto before = projections::projections_status(rt, tests::pg_url());
  REQUIRE(names(before) == expected);
  REQUIRE(before.size() == expected.size());
  // The lag counts the events of each projection's own category: only the Product models have any.
  const auto product_lag = [&world](const projections::projection_status& status, std::int64_t lag) {
    return status.info.category == world.category() ? lag : 0;
  };
  for (const auto& status : before) {
    CAPTURE(status.info.name);
    CHECK(status.lag_events == product_lag(status, 3));
    CHECK_FALSE(status.rebuild_needed);
    CHECK(status.live_model == status.info.initial_model());
  }
  for (const auto& target : rt.targets().all()) target->apply(std::span(events).first(2));
  const auto after = projections::projections_status(rt, tests::pg_url());
  REQUIRE(names(after) == expected);
  for (const auto& status : after) {
    CAPTURE(status.info.name);
    CHECK(status.lag_events == product_lag(status, 1));
  }
}
