#include "gateway/user/user_gateway.hpp"

#include <memory>

#include "commands/user/user_aggregate.hpp"
#include "gateway/user/user_routes.hpp"

namespace cqrs::gateway {

namespace {

using commands::user::user_aggregate;

// User commands always run on the PostgreSQL pool (their fields are sealed there first): no cache.
void add_caches(command_caches&, const gateway_config&) {}

void add_routes(router& r, const domain_context& context) {
  if (!context.config.pii) return;
  // Shared by the routes' handlers, which the router keeps: it lives as long as they do.
  auto services = std::make_shared<user::user_services>(context.config, *context.config.pii, context.registry,
                                                         context.log);
  user::add_user_routes(r, services);
  user::add_auth_routes(r, services);
}

}  // namespace

gateway_domain user_gateway() { return {"user", {user_aggregate::category}, add_caches, add_routes}; }

}  // namespace cqrs::gateway
