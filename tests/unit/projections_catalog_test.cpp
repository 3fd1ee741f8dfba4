// The projections catalog: every registered domain's projections, and a scope that renames every
// one of them (name and category read) by the same rule, with no connection made.

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "core/config.hpp"
#include "core/ids.hpp"
#include "projections/catalog.hpp"
#include "projections/product/product_projections_domain.hpp"
#include "projections/user/user_projections_domain.hpp"
#include "projections/order/order_projections_domain.hpp"

namespace cqrs::projections {

namespace {

struct listed {
  std::string name;
  std::string category;
  target_kind target;
  bool operator==(const listed&) const = default;
};

std::vector<listed> listing(const projection_set& set) {
  std::vector<listed> out;
  for (const auto& p : set.redis) out.push_back({p->info().name, p->info().category, p->info().target});
  for (const auto& p : set.postgres) out.push_back({p->info().name, p->info().category, p->info().target});
  return out;
}

// What the domains register themselves, unscoped: the catalog must hold all of it.
std::vector<listed> registered_by_the_domains() {
  projection_set set;
  const projection_scope production;
  projection_registrar registrar(set, production);
  product::register_projections(registrar);
  user::register_projections(registrar);
  order::register_projections(registrar);
  return listing(set);
}

}  // namespace

TEST_CASE("the catalog holds every registered domain's projections under their production names") {
  const auto all = listing(default_projections());
  CHECK(all == registered_by_the_domains());
  CHECK(all == std::vector<listed>{{"product_detail", "product", target_kind::redis},
                                   {"user_detail", "user", target_kind::redis},
                                   {"order_detail", "order", target_kind::redis},
                                   {"order_payment", "payment", target_kind::redis},
                                   {"product_catalog", "product", target_kind::postgres},
                                   {"user_admin_list", "user", target_kind::postgres},
                                   {"order_list", "order", target_kind::postgres},
                                   {"order_list_payment", "payment", target_kind::postgres}});
}

TEST_CASE("a scope renames every projection and the category it reads, the same way for each") {
  const auto production = listing(default_projections());
  const auto scoped = listing(default_projections(projection_scope("t_42")));
  REQUIRE(scoped.size() == production.size());
  for (std::size_t i = 0; i < scoped.size(); ++i) {
    CAPTURE(production[i].name);
    CHECK(scoped[i].name == production[i].name + "_t_42");
    CHECK(scoped[i].category == production[i].category + "_t_42");
    CHECK(scoped[i].target == production[i].target);
    CHECK(core::is_valid_category(scoped[i].category));
  }
}

TEST_CASE("a scope is empty or letters, digits and underscores, at most 64 of them") {
  CHECK(projection_scope().is_production());
  CHECK(projection_scope("").category("product") == "product");
  CHECK(projection_scope("run_7").projection("product_detail") == "product_detail_run_7");
  CHECK(projection_scope(std::string(64, 'a')).name().size() == 64);
  CHECK_THROWS_AS(projection_scope(std::string(65, 'a')), std::invalid_argument);
  CHECK_THROWS_AS(projection_scope("a-b"), std::invalid_argument);
  CHECK_THROWS_AS(projection_scope("a:b"), std::invalid_argument);
  CHECK_THROWS_AS(projection_scope("a b"), std::invalid_argument);
}

TEST_CASE("CQRS_PROJECTION_SCOPE is read into the runtime settings and a bad one is a configuration error") {
  const std::map<std::string, std::string> env{{"CQRS_PG_URL", "postgresql://localhost/db"},
                                               {"CQRS_REDIS_URL", "redis://localhost:6379/0"}};
  CHECK(load_runtime_settings(core::settings_source(env, {})).scope.is_production());
  auto scoped = env;
  scoped["CQRS_PROJECTION_SCOPE"] = "e2e_1";
  CHECK(load_runtime_settings(core::settings_source(scoped, {})).scope.name() == "e2e_1");
  scoped["CQRS_PROJECTION_SCOPE"] = "e2e-1";
  CHECK_THROWS_AS(load_runtime_settings(core::settings_source(scoped, {})), core::config_error);
}

}  // namespace cqrs::projections
