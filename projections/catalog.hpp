#pragma once

// Every projection the engine runs, and their targets bound to connections. The projections
// come from the domains listed in catalog.cpp (one line per domain, each a registration function
// in the domain's folder, see registration.hpp); no runtime code changes for a new projection or
// a new domain.

#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/projection.hpp"
#include "projections/redis_client.hpp"
#include "projections/registration.hpp"
#include "projections/target.hpp"

namespace cqrs::projections {

// The projections of every registered domain, named and reading categories under `scope` (the
// default: the production names).
projection_set default_projections(const projection_scope& scope = {});

// One target per projection, on one Redis client, one event store and one PostgreSQL URL. Same
// thread only (the connections are not shared).
class target_set {
 public:
  target_set(const projection_set& projections, redis_client& redis, core::event_store& store,
             const std::string& pg_url);

  const std::vector<std::unique_ptr<projection_target>>& all() const { return targets_; }
  // nullptr when no projection has that name.
  projection_target* find(const std::string& name) const;

 private:
  std::vector<std::unique_ptr<projection_target>> targets_;
};

struct runtime_settings {
  std::string pg_url;
  std::string redis_url;
  projection_scope scope;  // empty: the production projections
};

// CQRS_PG_URL, CQRS_REDIS_URL and CQRS_PROJECTION_SCOPE; a bad value is a core::config_error.
runtime_settings load_runtime_settings(const core::settings_source& source);
// Their documentation, for the --help of the processes that read them.
std::vector<core::setting_spec> runtime_setting_specs();

// Everything a projections process holds, built in dependency order: upcasters, the event
// store, Redis, the projections and their targets. One thread.
class runtime {
 public:
  explicit runtime(const runtime_settings& settings);
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  core::event_store& store() { return store_; }
  redis_client& redis() { return redis_; }
  const target_set& targets() const { return targets_; }

 private:
  core::upcaster_registry upcasters_;
  core::event_store store_;
  redis_client redis_;
  projection_set projections_;
  target_set targets_;
};

}  // namespace cqrs::projections
