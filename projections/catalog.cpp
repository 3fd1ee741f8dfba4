#include "projections/catalog.hpp"
#include "schemas/contracts/catalog.hpp"

#include "projections/pg_target.hpp"
#include "projections/product/product_projections.hpp"
#include "projections/redis_target.hpp"

namespace cqrs::projections {

projection_set default_projections(const std::string& category) {
  // Another category (a test's) gets its own names, so its models never touch the real ones.
  const std::string suffix = category == "product" ? "" : "_" + category;
  projection_set set;
  set.redis.push_back(std::make_unique<product_detail_projection>(category, "product_detail" + suffix));
  set.postgres.push_back(std::make_unique<product_catalog_projection>(category, "product_catalog" + suffix));
  return set;
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
      projections_(default_projections(settings.category)),
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
