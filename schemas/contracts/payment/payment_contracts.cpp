#include "schemas/contracts/payment/payment_contracts.hpp"

#include "schemas/contracts/payment/payment_codec.hpp"
#include "schemas/contracts/payment/payment_json.hpp"

namespace cqrs::schemas {

namespace {

boost::json::object payment_event_to_json(std::string_view type, int schema_version, std::string_view data) {
  return to_json(decode_payment_event(type, schema_version, data));
}

}  // namespace

domain_contracts payment_contracts() {
  return {.name = "payment",
          .event_versions = payment_event_versions,
          .register_upcasters = register_payment_upcasters,
          .knows_event = is_payment_event,
          .stored_event_to_json = payment_event_to_json};
}

}  // namespace cqrs::schemas
