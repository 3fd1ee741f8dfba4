#include "schemas/contracts/catalog.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "schemas/contracts/contract_error.hpp"
// The domains: one include and one line of the list below each.
#include "schemas/contracts/order/order_contracts.hpp"
#include "schemas/contracts/payment/payment_contracts.hpp"
#include "schemas/contracts/product/product_contracts.hpp"
#include "schemas/contracts/user/user_contracts.hpp"

namespace cqrs::schemas {

namespace {

std::vector<domain_contracts> listed_domains() {
  return {
      product_contracts(),
      user_contracts(),
      order_contracts(),
      payment_contracts(),
  };
}

// Two domains claiming one event type would make reads depend on list order: refuse at start-up.
void check_disjoint(const std::vector<domain_contracts>& domains) {
  std::map<std::string, std::string_view> owner;
  for (const auto& domain : domains) {
    for (const auto& [type, version] : domain.event_versions()) {
      const auto [found, inserted] = owner.emplace(type, domain.name);
      if (!inserted && found->second != domain.name) {
        throw std::logic_error(fmt::format("event type {} is in domains {} and {}", type, found->second, domain.name));
      }
    }
  }
}

}  // namespace

const std::vector<domain_contracts>& contract_domains() {
  static const auto domains = [] {
    auto all = listed_domains();
    check_disjoint(all);
    return all;
  }();
  return domains;
}

std::vector<contract_info> event_contracts() {
  std::map<std::string, contract_info> by_name;
  for (const auto& domain : contract_domains()) {
    for (const auto& [name, version] : domain.event_versions()) {
      auto& info = by_name[name];
      info.domain = domain.name;
      info.name = name;
      info.readable_versions.push_back(version);
      info.current_version = std::max(info.current_version, version);
    }
  }
  std::vector<contract_info> all;
  for (auto& [name, info] : by_name) {
    std::ranges::sort(info.readable_versions);
    all.push_back(std::move(info));
  }
  return all;
}

void register_upcasters(core::upcaster_registry& registry) {
  for (const auto& domain : contract_domains()) domain.register_upcasters(registry);
}

boost::json::object stored_event_to_json(std::string_view type, int schema_version, std::string_view data) {
  for (const auto& domain : contract_domains()) {
    if (domain.knows_event(type, schema_version)) return domain.stored_event_to_json(type, schema_version, data);
  }
  throw contract_error(fmt::format("unknown contract {} v{}", type, schema_version));
}

}  // namespace cqrs::schemas
