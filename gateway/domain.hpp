#pragma once

// A domain's part of the gateway: its command caches and its routes. Each domain folder
// (gateway/<domain>/) exports one gateway_domain, and gateway/domains.cpp lists them all; main
// walks that list, so adding a domain changes no other gateway file.

#include <string_view>
#include <vector>

#include "commands/pipeline_support.hpp"
#include "commands/stored_aggregate.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "gateway/command_caches.hpp"
#include "gateway/gateway_config.hpp"

namespace cqrs::gateway {

class router;
class read_model_lag;

// What a domain's routes are built with; all of it outlives the router.
struct domain_context {
  const gateway_config& config;
  const command_caches& caches;
  commands::pipeline_options pipeline;
  const read_model_lag& lag;  // reads served from a model say how stale it is
  // Where a domain's own series go (its resilience instances, say); null: none are published.
  core::metrics_registry* registry = nullptr;
  const core::logger* log = nullptr;
};

struct gateway_domain {
  std::string_view name;
  std::vector<std::string_view> categories;  // of its aggregates' streams
  // Adds a command cache per aggregate of the domain, sized by the configuration; before any
  // worker starts.
  void (*add_caches)(command_caches& caches, const gateway_config& config);
  // Adds the domain's routes. What they need beyond the context, they own (the router keeps it).
  void (*add_routes)(router& r, const domain_context& context);
};

// Every domain of the engine (gateway/domains.cpp).
const std::vector<gateway_domain>& gateway_domains();

// A's command cache, sized by CQRS_COMMAND_CACHE_SIZES for its category or CQRS_COMMAND_CACHE_SIZE.
template <commands::stored_aggregate A>
void add_command_cache(command_caches& caches, const gateway_config& config) {
  caches.add<A>(config.command_cache_size_for(A::category));
}

// Every domain's caches; a CQRS_COMMAND_CACHE_SIZES category that no domain has is refused
// (core::config_error).
command_caches make_command_caches(const gateway_config& config);

// Every domain's routes.
void add_domain_routes(router& r, const domain_context& context);

}  // namespace cqrs::gateway
