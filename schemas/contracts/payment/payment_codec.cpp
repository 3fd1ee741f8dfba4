#include "schemas/contracts/detail/cereal_json.hpp"  // first: see the header's comment

#include "schemas/contracts/payment/payment_codec.hpp"

#include "schemas/contracts/detail/decoder_table.hpp"

namespace cqrs::schemas {

namespace {

const detail::decoder_table<payment_event>& event_decoders() {
  static const auto table = detail::current_versions<payment_event>();
  return table;
}

const detail::decoder_table<payment_command>& command_decoders() {
  static const auto table = detail::current_versions<payment_command>();
  return table;
}

}  // namespace

encoded_payload encode(const payment_event& event) { return detail::encode_any(event); }

payment_event decode_payment_event(std::string_view type, int schema_version, std::string_view data) {
  return event_decoders().decode(type, schema_version, data);
}

bool is_payment_event(std::string_view type, int schema_version) { return event_decoders().knows(type, schema_version); }

std::vector<std::pair<std::string, int>> payment_event_versions() { return event_decoders().versions(); }

void register_payment_upcasters(core::upcaster_registry&) {}

encoded_payload encode(const payment_command& command) { return detail::encode_any(command); }

payment_command decode_payment_command(std::string_view type, int schema_version, std::string_view data) {
  return command_decoders().decode(type, schema_version, data);
}

}  // namespace cqrs::schemas
