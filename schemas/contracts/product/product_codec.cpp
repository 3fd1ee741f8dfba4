#include "schemas/contracts/detail/cereal_json.hpp"  // first: see the header's comment

#include "schemas/contracts/product/product_codec.hpp"

#include <variant>

#include "schemas/contracts/detail/decoder_table.hpp"
#include "schemas/contracts/product/product_events_history.hpp"

namespace cqrs::schemas {

namespace {

const detail::decoder_table<product_event>& event_decoders() {
  static const auto table = [] {
    auto t = detail::current_versions<product_event>();
    // Upcasters: every older version still present in some database.
    t.add<product_created_v1>();
    return t;
  }();
  return table;
}

const detail::decoder_table<product_command>& command_decoders() {
  static const auto table = detail::current_versions<product_command>();
  return table;
}

template <typename Variant>
encoded_payload encode_variant(const Variant& value) {
  return std::visit([](const auto& contract) { return encode_one(contract); }, value);
}

}  // namespace

template <typename T>
encoded_payload encode_one(const T& contract) {
  return encoded_payload{std::string(T::type_name), T::schema_version, detail::to_cereal_json(contract)};
}

encoded_payload encode(const product_event& event) { return encode_variant(event); }

product_event decode_product_event(std::string_view type, int schema_version, std::string_view data) {
  return event_decoders().decode(type, schema_version, data);
}

bool is_product_event(std::string_view type, int schema_version) {
  return event_decoders().knows(type, schema_version);
}

std::vector<std::pair<std::string, int>> product_event_versions() { return event_decoders().versions(); }

namespace {

// One store step: the payload of version Old, read and upcast once, written as the next version.
template <typename Old>
void add_step(core::upcaster_registry& registry) {
  registry.add(std::string(Old::type_name), Old::schema_version, [](std::string_view data) {
    return detail::to_cereal_json(Old::upcast(detail::from_cereal_json<Old>(data)));
  });
}

}  // namespace

void register_product_upcasters(core::upcaster_registry& registry) { add_step<product_created_v1>(registry); }

encoded_payload encode(const product_command& command) { return encode_variant(command); }

product_command decode_product_command(std::string_view type, int schema_version, std::string_view data) {
  return command_decoders().decode(type, schema_version, data);
}

// The instantiations callers may use (older versions included, for tests of upcasting).
template encoded_payload encode_one(const product_created&);
template encoded_payload encode_one(const product_details_updated&);
template encoded_payload encode_one(const product_price_changed&);
template encoded_payload encode_one(const product_restocked&);
template encoded_payload encode_one(const stock_reserved&);
template encoded_payload encode_one(const reservation_released&);
template encoded_payload encode_one(const reservation_committed&);
template encoded_payload encode_one(const product_discontinued&);
template encoded_payload encode_one(const product_created_v1&);

}  // namespace cqrs::schemas
