#include "schemas/contracts/product/product_contracts.hpp"

#include "schemas/contracts/product/product_codec.hpp"
#include "schemas/contracts/product/product_json.hpp"

namespace cqrs::schemas {

namespace {

boost::json::object product_event_to_json(std::string_view type, int schema_version, std::string_view data) {
  return to_json(decode_product_event(type, schema_version, data));
}

}  // namespace

domain_contracts product_contracts() {
  return {.name = "product",
          .event_versions = product_event_versions,
          .register_upcasters = register_product_upcasters,
          .knows_event = is_product_event,
          .stored_event_to_json = product_event_to_json};
}

}  // namespace cqrs::schemas
