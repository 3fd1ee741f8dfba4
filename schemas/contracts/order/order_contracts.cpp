#include "schemas/contracts/order/order_contracts.hpp"

#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/order/order_json.hpp"

namespace cqrs::schemas {

namespace {

boost::json::object order_event_to_json(std::string_view type, int schema_version, std::string_view data) {
  return to_json(decode_order_event(type, schema_version, data));
}

}  // namespace

domain_contracts order_contracts() {
  return {.name = "order",
          .event_versions = order_event_versions,
          .register_upcasters = register_order_upcasters,
          .knows_event = is_order_event,
          .stored_event_to_json = order_event_to_json};
}

}  // namespace cqrs::schemas
