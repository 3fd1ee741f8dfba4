#include "schemas/contracts/detail/cereal_json.hpp"  // first: see the header's comment

#include "schemas/contracts/order/order_codec.hpp"

#include "schemas/contracts/detail/decoder_table.hpp"

namespace cqrs::schemas {

namespace {

const detail::decoder_table<order_event>& event_decoders() {
  static const auto table = detail::current_versions<order_event>();
  return table;
}

const detail::decoder_table<order_command>& command_decoders() {
  static const auto table = detail::current_versions<order_command>();
  return table;
}

}  // namespace

encoded_payload encode(const order_event& event) { return detail::encode_any(event); }

order_event decode_order_event(std::string_view type, int schema_version, std::string_view data) {
  return event_decoders().decode(type, schema_version, data);
}

bool is_order_event(std::string_view type, int schema_version) { return event_decoders().knows(type, schema_version); }

std::vector<std::pair<std::string, int>> order_event_versions() { return event_decoders().versions(); }

void register_order_upcasters(core::upcaster_registry&) {}

encoded_payload encode(const order_command& command) { return detail::encode_any(command); }

order_command decode_order_command(std::string_view type, int schema_version, std::string_view data) {
  return command_decoders().decode(type, schema_version, data);
}

}  // namespace cqrs::schemas
