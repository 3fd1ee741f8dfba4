#include "schemas/contracts/detail/cereal_json.hpp"  // first: cereal's JSON archive before rapidjson

#include "commands/order/order_aggregate.hpp"
#include "commands/rejection_json.hpp"

#include <stdexcept>

#include <cereal/types/map.hpp>
#include <cereal/types/vector.hpp>

namespace cqrs::commands::order {

namespace {

// The stored shape of order_state, version 1: spelled out in one place, so order_state stays free
// of serialization concerns.
struct snapshot_v1 {
  static constexpr std::string_view type_name = "order.snapshot";
  static constexpr int schema_version = 1;

  order_state state;

  template <typename Archive>
  void serialize(Archive& ar) {
    auto& s = state;
    int status = static_cast<int>(s.status);
    ar(cereal::make_nvp("status", status), cereal::make_nvp("customer_id", s.customer), cereal::make_nvp("lines", s.lines),
       cereal::make_nvp("total", s.total), cereal::make_nvp("shipping_address", s.address),
       cereal::make_nvp("payment_id", s.payment), cereal::make_nvp("reason", s.reason),
       cereal::make_nvp("cancelled_by", s.cancelled_by), cereal::make_nvp("refund_needed", s.refund_needed),
       cereal::make_nvp("requested_refunds", s.requested_refunds),
       cereal::make_nvp("recorded_refunds", s.recorded_refunds), cereal::make_nvp("refunded_minor", s.refunded_minor));
    s.status = static_cast<order_status>(status);
  }
};

}  // namespace

std::string encode_snapshot(const order_state& state) {
  static_assert(snapshot_v1::schema_version == order_aggregate::snapshot_schema_version);
  return schemas::detail::to_cereal_json(snapshot_v1{state});
}

std::optional<order_state> decode_snapshot(int schema_version, std::string_view data) {
  if (schema_version != snapshot_v1::schema_version) return std::nullopt;
  return schemas::detail::from_cereal_json<snapshot_v1>(data).state;
}

rejection order_aggregate::claim_refused(const unique_claim& claim) {
  throw std::logic_error("an order claims nothing, yet a claim of scope " + claim.scope + " was refused");
}

std::string order_aggregate::encode_rejection(const rejection& why) { return encode_rejection_json(why); }

std::optional<rejection> order_aggregate::decode_rejection(std::string_view text) {
  return decode_rejection_json<rejection>(text);
}

}  // namespace cqrs::commands::order
