#pragma once

// Every projection the engine runs, and their targets bound to connections. Adding a projection
// means adding it to default_projections() in catalog.cpp; no runtime code changes.

#include <memory>
#include <string>
#include <vector>

#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/projection.hpp"
#include "projections/redis_client.hpp"
#include "projections/target.hpp"

namespace cqrs::projections {

struct projection_set {
  std::vector<std::unique_ptr<redis_projection>> redis;
  std::vector<std::unique_ptr<pg_projection>> postgres;
};

// The Product projections over `category` ("product" in production; tests use their own).
projection_set default_projections(const std::string& category = "product");

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
  std::string category = "product";
};

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
