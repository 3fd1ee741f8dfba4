#include "schemas/contracts/detail/cereal_json.hpp"  // first: cereal's JSON archive before rapidjson

#include "commands/product/product_aggregate.hpp"
#include "commands/rejection_json.hpp"

#include <stdexcept>
#include <variant>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/set.hpp>
#include <fmt/format.h>

namespace cqrs::commands::product {

namespace {

// The stored shape of product_state, version 1. A separate type so that the snapshot format is
// spelled out in one place and product_state stays free of serialization concerns.
struct snapshot_v1 {
  static constexpr std::string_view type_name = "product.snapshot";
  static constexpr int schema_version = 1;

  product_state state;

  template <typename Archive>
  void serialize(Archive& ar) {
    auto& s = state;
    ar(cereal::make_nvp("exists", s.exists), cereal::make_nvp("sku", s.code), cereal::make_nvp("name", s.name),
       cereal::make_nvp("description", s.description), cereal::make_nvp("price", s.price),
       cereal::make_nvp("discontinued", s.discontinued), cereal::make_nvp("on_hand", s.on_hand),
       cereal::make_nvp("reserved", s.reserved), cereal::make_nvp("open_reservations", s.open_reservations),
       cereal::make_nvp("closed_reservations", s.closed_reservations));
  }
};

}  // namespace

std::string encode_snapshot(const product_state& state) {
  static_assert(snapshot_v1::schema_version == product_aggregate::snapshot_schema_version);
  return schemas::detail::to_cereal_json(snapshot_v1{state});
}

std::optional<product_state> decode_snapshot(int schema_version, std::string_view data) {
  if (schema_version != snapshot_v1::schema_version) return std::nullopt;
  return schemas::detail::from_cereal_json<snapshot_v1>(data).state;
}

std::vector<unique_claim> product_aggregate::claims(const event_type& event) {
  if (const auto* created = std::get_if<schemas::product_created>(&event)) {
    return {unique_claim{std::string(sku_claim_scope), created->code.value()}};
  }
  return {};
}

rejection product_aggregate::claim_refused(const unique_claim& claim) {
  return rejection{errc::sku_already_taken, fmt::format("SKU {} belongs to another product", claim.value)};
}

std::string product_aggregate::encode_rejection(const rejection& why) { return encode_rejection_json(why); }

std::optional<rejection> product_aggregate::decode_rejection(std::string_view text) {
  return decode_rejection_json<rejection>(text);
}

}  // namespace cqrs::commands::product
