#pragma once

// The Order domain's own value types. An order names products by id and its payment and refunds
// with the Payment domain's ids (payment_values.hpp).

#include <string>
#include <string_view>

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>

#include "schemas/contracts/payment/payment_values.hpp"
#include "schemas/contracts/value_types.hpp"

namespace cqrs::schemas {

// An order's id: the `<uuid>` of its stream `order-<uuid>`.
using order_id = strong_value<std::string, struct order_id_tag>;
// The customer: a user's id (the `<id>` of the stream `user-<id>`).
using customer_id = strong_value<std::string, struct customer_id_tag>;
// A product's id: the `<id>` of the stream `product-<id>`.
using product_id = strong_value<std::string, struct product_id_tag>;

// One line of an order: a product (once per order), how many, and the unit price fixed when the
// order was placed (integer minor units).
struct order_line {
  product_id product;
  quantity units;
  money unit_price;

  friend bool operator==(const order_line&, const order_line&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("product_id", product), cereal::make_nvp("quantity", units), CEREAL_NVP(unit_price));
  }
};

struct shipping_address {
  std::string line1;
  std::string city;
  std::string postal_code;
  std::string country;

  friend bool operator==(const shipping_address&, const shipping_address&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(line1), CEREAL_NVP(city), CEREAL_NVP(postal_code), CEREAL_NVP(country));
  }
};

// Who cancelled an order (the `by` of order.cancel and order.cancelled).
namespace cancelled_by {
inline constexpr std::string_view customer = "customer";
inline constexpr std::string_view admin = "admin";
}  // namespace cancelled_by

}  // namespace cqrs::schemas
