// The domains of the gateway: one line each. Nothing else in gateway/ outside a domain folder
// names a domain.

#include <algorithm>

#include <fmt/format.h>

#include "core/config.hpp"
#include "gateway/domain.hpp"
#include "gateway/processes/processes_gateway.hpp"
#include "gateway/product/product_gateway.hpp"
#include "gateway/user/user_gateway.hpp"
#include "gateway/order/order_gateway.hpp"
#include "gateway/payment/payment_gateway.hpp"

namespace cqrs::gateway {

const std::vector<gateway_domain>& gateway_domains() {
  static const std::vector<gateway_domain> domains = {
      product_gateway(),
      user_gateway(),
      order_gateway(),
      payment_gateway(),
      processes_gateway(),
  };
  return domains;
}

command_caches make_command_caches(const gateway_config& config) {
  // Not a structured binding: clang 14 (the fuzzing build's compiler) cannot capture one.
  for (const auto& entry : config.command_cache_sizes) {
    const std::string& category = entry.first;
    const bool known = std::any_of(gateway_domains().begin(), gateway_domains().end(), [&](const gateway_domain& d) {
      return std::find(d.categories.begin(), d.categories.end(), category) != d.categories.end();
    });
    if (!known) {
      throw core::config_error("CQRS_COMMAND_CACHE_SIZES",
                               fmt::format("no aggregate has the category '{}'", category));
    }
  }
  command_caches caches;
  for (const auto& domain : gateway_domains()) domain.add_caches(caches, config);
  return caches;
}

void add_domain_routes(router& r, const domain_context& context) {
  for (const auto& domain : gateway_domains()) domain.add_routes(r, context);
}

}  // namespace cqrs::gateway
