#pragma once

// Commands of the Order aggregate. The order a command targets travels in the command envelope
// (stream `order-<id>`), not as a field. Money is integer minor units, one currency per order.

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "schemas/contracts/order/order_values.hpp"

namespace cqrs::schemas {

// Places an order. The gateway fixes each line's unit price from the product's state on the write side
// and generates the order and payment ids; the card token goes on to payment.request only.
struct place_order {
  static constexpr std::string_view type_name = "order.place";
  static constexpr int schema_version = 1;

  customer_id customer;
  std::vector<order_line> lines;
  shipping_address address;
  payment_id payment;
  card_token card;

  friend bool operator==(const place_order&, const place_order&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("customer_id", customer), CEREAL_NVP(lines), cereal::make_nvp("shipping_address", address),
       cereal::make_nvp("payment_id", payment), cereal::make_nvp("card_token", card));
  }
};

// Every line's stock is reserved (the reservation id is the order id).
struct mark_order_stock_reserved {
  static constexpr std::string_view type_name = "order.mark_stock_reserved";
  static constexpr int schema_version = 1;

  friend bool operator==(const mark_order_stock_reserved&, const mark_order_stock_reserved&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

// The order cannot be served (a product unknown, discontinued, out of stock, in another currency).
struct reject_order {
  static constexpr std::string_view type_name = "order.reject";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const reject_order&, const reject_order&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

struct mark_order_paid {
  static constexpr std::string_view type_name = "order.mark_paid";
  static constexpr int schema_version = 1;

  friend bool operator==(const mark_order_paid&, const mark_order_paid&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct mark_order_payment_failed {
  static constexpr std::string_view type_name = "order.mark_payment_failed";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const mark_order_payment_failed&, const mark_order_payment_failed&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

// No payment settled within the deadline.
struct expire_order {
  static constexpr std::string_view type_name = "order.expire";
  static constexpr int schema_version = 1;

  friend bool operator==(const expire_order&, const expire_order&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct cancel_order {
  static constexpr std::string_view type_name = "order.cancel";
  static constexpr int schema_version = 1;

  std::string by;  // cancelled_by::customer or cancelled_by::admin

  friend bool operator==(const cancel_order&, const cancel_order&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(by));
  }
};

struct ship_order {
  static constexpr std::string_view type_name = "order.ship";
  static constexpr int schema_version = 1;

  friend bool operator==(const ship_order&, const ship_order&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct deliver_order {
  static constexpr std::string_view type_name = "order.deliver";
  static constexpr int schema_version = 1;

  friend bool operator==(const deliver_order&, const deliver_order&) = default;

  template <typename Archive>
  void serialize(Archive&) {}
};

struct request_order_refund {
  static constexpr std::string_view type_name = "order.request_refund";
  static constexpr int schema_version = 1;

  refund_id refund;
  money amount;

  friend bool operator==(const request_order_refund&, const request_order_refund&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("refund_id", refund), CEREAL_NVP(amount));
  }
};

// The payment's refund went through (sent by the process that asked the card processor).
struct record_order_refund {
  static constexpr std::string_view type_name = "order.record_refund";
  static constexpr int schema_version = 1;

  refund_id refund;
  money amount;

  friend bool operator==(const record_order_refund&, const record_order_refund&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("refund_id", refund), CEREAL_NVP(amount));
  }
};

using order_command =
    std::variant<place_order, mark_order_stock_reserved, reject_order, mark_order_paid, mark_order_payment_failed,
                 expire_order, cancel_order, ship_order, deliver_order, request_order_refund, record_order_refund>;

}  // namespace cqrs::schemas
