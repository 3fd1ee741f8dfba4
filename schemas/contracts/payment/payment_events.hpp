#pragma once

// Events of the Payment aggregate (stream category "payment"), at their current schema versions.
// Changing a type's fields means a new schema version and an upcaster (docs/event-schemas.md).

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "schemas/contracts/order/order_values.hpp"

namespace cqrs::schemas {

struct payment_requested {
  static constexpr std::string_view type_name = "payment.requested";
  static constexpr int schema_version = 1;

  order_id order;
  money amount;
  card_token card;

  friend bool operator==(const payment_requested&, const payment_requested&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("order_id", order), CEREAL_NVP(amount), cereal::make_nvp("card_token", card));
  }
};

struct payment_pending {
  static constexpr std::string_view type_name = "payment.pending";
  static constexpr int schema_version = 1;

  charge_id charge;

  friend bool operator==(const payment_pending&, const payment_pending&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("charge_id", charge));
  }
};

struct payment_authorized {
  static constexpr std::string_view type_name = "payment.authorized";
  static constexpr int schema_version = 1;

  charge_id charge;

  friend bool operator==(const payment_authorized&, const payment_authorized&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("charge_id", charge));
  }
};

struct payment_captured {
  static constexpr std::string_view type_name = "payment.captured";
  static constexpr int schema_version = 1;

  money amount;

  friend bool operator==(const payment_captured&, const payment_captured&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(amount));
  }
};

struct payment_declined {
  static constexpr std::string_view type_name = "payment.declined";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const payment_declined&, const payment_declined&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

struct payment_failed {
  static constexpr std::string_view type_name = "payment.failed";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const payment_failed&, const payment_failed&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

struct payment_voided {
  static constexpr std::string_view type_name = "payment.voided";
  static constexpr int schema_version = 1;

  friend bool operator==(const payment_voided&, const payment_voided&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct payment_refunded {
  static constexpr std::string_view type_name = "payment.refunded";
  static constexpr int schema_version = 1;

  refund_id refund;
  money amount;
  money refunded_total;  // every refund of the payment so far, this one included

  friend bool operator==(const payment_refunded&, const payment_refunded&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("refund_id", refund), CEREAL_NVP(amount), CEREAL_NVP(refunded_total));
  }
};

using payment_event = std::variant<payment_requested, payment_pending, payment_authorized, payment_captured,
                                   payment_declined, payment_failed, payment_voided, payment_refunded>;

}  // namespace cqrs::schemas
