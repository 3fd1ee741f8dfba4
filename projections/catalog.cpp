#include "projections/catalog.hpp"

#include <fmt/format.h>

#include "schemas/contracts/catalog.hpp"

#include "projections/pg_target.hpp"
#include "projections/redis_target.hpp"

// The domains: each has its include here and its line in `domains`.
#include "projections/product/product_projections_domain.hpp"
#include "projections/user/user_projections_domain.hpp"
#include "projections/order/order_projections_domain.hpp"

namespace cqrs::projections {

namespace {

constexpr domain_projections domains[] = {
    product::register_projections,
    user::register_projections,
    order::register_projections,
};

}  // namespace

projection_set default_projections(const projection_scope& scope) {
  projection_set set;
  projection_registrar registrar(set, scope);
  for (const auto add_domain : domains) add_domain(registrar);
  return set;
}

runtime_settings load_runtime_settings(const core::settings_source& source) {
  auto scope = source.text("CQRS_PROJECTION_SCOPE", "");
  if (!projection_scope::is_valid(scope)) {
    throw core::config_error("CQRS_PROJECTION_SCOPE", fmt::format("must be [A-Za-z0-9_]+, at most {} characters",
                                                                  projection_scope::max_length));
  }
  return {source.url("CQRS_PG_URL", "", {"postgresql", "postgres"}), source.url("CQRS_REDIS_URL", "", {"redis"}),
          projection_scope(std::move(scope))};
}

std::vector<core::setting_spec> runtime_setting_specs() {
  return {{"CQRS_PG_URL", "", "PostgreSQL connection URL"},
          {"CQRS_REDIS_URL", "", "Redis URL (redis://host:port/db)"},
          {"CQRS_PROJECTION_SCOPE", "",
           "run every projection as <name>_<scope> over <category>_<scope>, beside the production ones "
           "(tests; empty: production)"}};
}

runtime::runtime(const runtime_settings& settings)
    : store_([&] {
        schemas::register_upcasters(upcasters_);
        core::store_options options;
        options.url = settings.pg_url;
        options.upcasters = &upcasters_;
        return options;
      }()),
      redis_(settings.redis_url),
      projections_(default_projections(settings.scope)),
      targets_(projections_, redis_, store_, settings.pg_url) {}

target_set::target_set(const projection_set& projections, redis_client& redis, core::event_store& store,
                       const std::string& pg_url) {
  for (const auto& p : projections.redis) targets_.push_back(std::make_unique<redis_target>(redis, store, *p));
  for (const auto& p : projections.postgres) targets_.push_back(std::make_unique<pg_target>(pg_url, store, *p));
}

projection_target* target_set::find(const std::string& name) const {
  for (const auto& target : targets_) {
    if (target->info().name == name) return target.get();
  }
  return nullptr;
}

}  // namespace cqrs::projections
