#pragma once

// Commands of the Payment aggregate. The payment a command targets travels in the command
// envelope (stream `payment-<id>`), not as a field. Money is integer minor units.

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "schemas/contracts/order/order_values.hpp"

namespace cqrs::schemas {

struct request_payment {
  static constexpr std::string_view type_name = "payment.request";
  static constexpr int schema_version = 1;

  order_id order;
  money amount;
  card_token card;

  friend bool operator==(const request_payment&, const request_payment&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("order_id", order), CEREAL_NVP(amount), cereal::make_nvp("card_token", card));
  }
};

// The card processor took the charge but settles it later (its webhook).
struct mark_payment_pending {
  static constexpr std::string_view type_name = "payment.mark_pending";
  static constexpr int schema_version = 1;

  charge_id charge;

  friend bool operator==(const mark_payment_pending&, const mark_payment_pending&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("charge_id", charge));
  }
};

struct authorize_payment {
  static constexpr std::string_view type_name = "payment.authorize";
  static constexpr int schema_version = 1;

  charge_id charge;

  friend bool operator==(const authorize_payment&, const authorize_payment&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("charge_id", charge));
  }
};

struct capture_payment {
  static constexpr std::string_view type_name = "payment.capture";
  static constexpr int schema_version = 1;

  friend bool operator==(const capture_payment&, const capture_payment&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct decline_payment {
  static constexpr std::string_view type_name = "payment.decline";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const decline_payment&, const decline_payment&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

struct fail_payment {
  static constexpr std::string_view type_name = "payment.fail";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const fail_payment&, const fail_payment&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

struct void_payment {
  static constexpr std::string_view type_name = "payment.void";
  static constexpr int schema_version = 1;

  friend bool operator==(const void_payment&, const void_payment&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct refund_payment {
  static constexpr std::string_view type_name = "payment.refund";
  static constexpr int schema_version = 1;

  refund_id refund;
  money amount;

  friend bool operator==(const refund_payment&, const refund_payment&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("refund_id", refund), CEREAL_NVP(amount));
  }
};

using payment_command = std::variant<request_payment, mark_payment_pending, authorize_payment, capture_payment,
                                     decline_payment, fail_payment, void_payment, refund_payment>;

}  // namespace cqrs::schemas
