#pragma once

// Events of the Order aggregate (stream category "order"), at their current schema versions.
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

// The card token is not stored here: it travels in payment.requested only.
struct order_placed {
  static constexpr std::string_view type_name = "order.placed";
  static constexpr int schema_version = 1;

  customer_id customer;
  std::vector<order_line> lines;
  money total;
  shipping_address address;
  payment_id payment;

  friend bool operator==(const order_placed&, const order_placed&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("customer_id", customer), CEREAL_NVP(lines), CEREAL_NVP(total),
       cereal::make_nvp("shipping_address", address), cereal::make_nvp("payment_id", payment));
  }
};

struct order_stock_reserved {
  static constexpr std::string_view type_name = "order.stock_reserved";
  static constexpr int schema_version = 1;

  friend bool operator==(const order_stock_reserved&, const order_stock_reserved&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct order_rejected {
  static constexpr std::string_view type_name = "order.rejected";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const order_rejected&, const order_rejected&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

struct order_paid {
  static constexpr std::string_view type_name = "order.paid";
  static constexpr int schema_version = 1;

  friend bool operator==(const order_paid&, const order_paid&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct order_payment_failed {
  static constexpr std::string_view type_name = "order.payment_failed";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const order_payment_failed&, const order_payment_failed&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

struct order_expired {
  static constexpr std::string_view type_name = "order.expired";
  static constexpr int schema_version = 1;

  friend bool operator==(const order_expired&, const order_expired&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct order_cancelled {
  static constexpr std::string_view type_name = "order.cancelled";
  static constexpr int schema_version = 1;

  std::string by;              // cancelled_by::customer or cancelled_by::admin
  bool refund_needed = false;  // paid before: the whole amount is to be refunded

  friend bool operator==(const order_cancelled&, const order_cancelled&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(by), CEREAL_NVP(refund_needed));
  }
};

struct order_shipped {
  static constexpr std::string_view type_name = "order.shipped";
  static constexpr int schema_version = 1;

  friend bool operator==(const order_shipped&, const order_shipped&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct order_delivered {
  static constexpr std::string_view type_name = "order.delivered";
  static constexpr int schema_version = 1;

  friend bool operator==(const order_delivered&, const order_delivered&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct order_refund_requested {
  static constexpr std::string_view type_name = "order.refund_requested";
  static constexpr int schema_version = 1;

  refund_id refund;
  money amount;

  friend bool operator==(const order_refund_requested&, const order_refund_requested&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("refund_id", refund), CEREAL_NVP(amount));
  }
};

struct order_refunded {
  static constexpr std::string_view type_name = "order.refunded";
  static constexpr int schema_version = 1;

  refund_id refund;
  money amount;
  money refunded_total;  // every refund of the order so far, this one included
  bool full = false;     // refunded_total reached the order's total

  friend bool operator==(const order_refunded&, const order_refunded&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("refund_id", refund), CEREAL_NVP(amount), CEREAL_NVP(refunded_total), CEREAL_NVP(full));
  }
};

using order_event =
    std::variant<order_placed, order_stock_reserved, order_rejected, order_paid, order_payment_failed, order_expired,
                 order_cancelled, order_shipped, order_delivered, order_refund_requested, order_refunded>;

}  // namespace cqrs::schemas
