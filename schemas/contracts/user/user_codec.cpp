#include "schemas/contracts/detail/cereal_json.hpp"  // first: see the header's comment

#include "schemas/contracts/user/user_codec.hpp"

#include <variant>

#include "schemas/contracts/detail/decoder_table.hpp"

namespace cqrs::schemas {

namespace {

const detail::decoder_table<user_event>& event_decoders() {
  static const auto table = detail::current_versions<user_event>();
  return table;
}

const detail::decoder_table<user_command>& command_decoders() {
  static const auto table = detail::current_versions<user_command>();
  return table;
}

template <typename Variant>
encoded_payload encode_variant(const Variant& value) {
  return std::visit(
      [](const auto& contract) {
        using T = std::decay_t<decltype(contract)>;
        return encoded_payload{std::string(T::type_name), T::schema_version, detail::to_cereal_json(contract)};
      },
      value);
}

}  // namespace

encoded_payload encode(const user_event& event) { return encode_variant(event); }

user_event decode_user_event(std::string_view type, int schema_version, std::string_view data) {
  return event_decoders().decode(type, schema_version, data);
}

bool is_user_event(std::string_view type, int schema_version) { return event_decoders().knows(type, schema_version); }

std::vector<std::pair<std::string, int>> user_event_versions() { return event_decoders().versions(); }

void register_user_upcasters(core::upcaster_registry&) {}

encoded_payload encode(const user_command& command) { return encode_variant(command); }

user_command decode_user_command(std::string_view type, int schema_version, std::string_view data) {
  return command_decoders().decode(type, schema_version, data);
}

}  // namespace cqrs::schemas
