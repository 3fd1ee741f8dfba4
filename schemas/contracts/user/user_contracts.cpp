#include "schemas/contracts/user/user_contracts.hpp"

#include "schemas/contracts/user/user_codec.hpp"
#include "schemas/contracts/user/user_json.hpp"

namespace cqrs::schemas {

namespace {

boost::json::object user_event_to_json(std::string_view type, int schema_version, std::string_view data) {
  return to_json(decode_user_event(type, schema_version, data));
}

}  // namespace

domain_contracts user_contracts() {
  return {.name = "user",
          .event_versions = user_event_versions,
          .register_upcasters = register_user_upcasters,
          .knows_event = is_user_event,
          .stored_event_to_json = user_event_to_json};
}

}  // namespace cqrs::schemas
