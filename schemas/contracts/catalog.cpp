#include "schemas/contracts/catalog.hpp"

#include <map>

#include <fmt/format.h>

#include "schemas/contracts/contract_error.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "schemas/contracts/product/product_json.hpp"

namespace cqrs::schemas {

namespace {

std::vector<std::pair<std::string, int>> all_event_versions() { return product_event_versions(); }

}  // namespace

std::vector<contract_info> event_contracts() {
  std::map<std::string, contract_info> by_name;
  for (const auto& [name, version] : all_event_versions()) {
    auto& info = by_name[name];
    info.name = name;
    info.readable_versions.push_back(version);
    info.current_version = std::max(info.current_version, version);
  }
  std::vector<contract_info> all;
  for (auto& [name, info] : by_name) all.push_back(std::move(info));
  return all;
}

void register_upcasters(core::upcaster_registry& registry) { register_product_upcasters(registry); }

boost::json::object stored_event_to_json(std::string_view type, int schema_version, std::string_view data) {
  if (is_product_event(type, schema_version)) return to_json(decode_product_event(type, schema_version, data));
  throw contract_error(fmt::format("unknown contract {} v{}", type, schema_version));
}

}  // namespace cqrs::schemas
