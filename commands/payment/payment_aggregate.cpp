#include "schemas/contracts/detail/cereal_json.hpp"  // first: cereal's JSON archive before rapidjson

#include "commands/payment/payment_aggregate.hpp"
#include "commands/rejection_json.hpp"

#include <stdexcept>

#include <cereal/types/map.hpp>

namespace cqrs::commands::payment {

namespace {

// The stored shape of payment_state, version 1: spelled out in one place, so payment_state stays free
// of serialization concerns.
struct snapshot_v1 {
  static constexpr std::string_view type_name = "payment.snapshot";
  static constexpr int schema_version = 1;

  payment_state state;

  template <typename Archive>
  void serialize(Archive& ar) {
    auto& s = state;
    int status = static_cast<int>(s.status);
    ar(cereal::make_nvp("status", status), cereal::make_nvp("order_id", s.order), cereal::make_nvp("amount", s.amount),
       cereal::make_nvp("card_token", s.card), cereal::make_nvp("charge_id", s.charge),
       cereal::make_nvp("pending", s.pending), cereal::make_nvp("reason", s.reason),
       cereal::make_nvp("captured_minor", s.captured_minor), cereal::make_nvp("refunds", s.refunds),
       cereal::make_nvp("refunded_minor", s.refunded_minor));
    s.status = static_cast<payment_status>(status);
  }
};

}  // namespace

std::string encode_snapshot(const payment_state& state) {
  static_assert(snapshot_v1::schema_version == payment_aggregate::snapshot_schema_version);
  return schemas::detail::to_cereal_json(snapshot_v1{state});
}

std::optional<payment_state> decode_snapshot(int schema_version, std::string_view data) {
  if (schema_version != snapshot_v1::schema_version) return std::nullopt;
  return schemas::detail::from_cereal_json<snapshot_v1>(data).state;
}

rejection payment_aggregate::claim_refused(const unique_claim& claim) {
  throw std::logic_error("an payment claims nothing, yet a claim of scope " + claim.scope + " was refused");
}

std::string payment_aggregate::encode_rejection(const rejection& why) { return encode_rejection_json(why); }

std::optional<rejection> payment_aggregate::decode_rejection(std::string_view text) {
  return decode_rejection_json<rejection>(text);
}

}  // namespace cqrs::commands::payment
