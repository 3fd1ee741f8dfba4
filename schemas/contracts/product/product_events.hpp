#pragma once

// Events of the Product aggregate (stream category "product"), at their current schema versions.
// An event is a fact that happened; once stored it never changes. Changing a type's fields means
// a new schema version here, the old shape kept in product_events_history.hpp with an upcaster
// that lifts it to this one (see docs/event-schemas.md).

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>

#include "schemas/contracts/product/product_values.hpp"

namespace cqrs::schemas {

struct product_created {
  static constexpr std::string_view type_name = "product.created";
  static constexpr int schema_version = 2;

  sku code;
  std::string name;
  std::string description;
  money price;
  std::int64_t initial_stock = 0;

  friend bool operator==(const product_created&, const product_created&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("sku", code), CEREAL_NVP(name), CEREAL_NVP(description), CEREAL_NVP(price),
       CEREAL_NVP(initial_stock));
  }
};

struct product_details_updated {
  static constexpr std::string_view type_name = "product.details_updated";
  static constexpr int schema_version = 1;

  std::string name;
  std::string description;

  friend bool operator==(const product_details_updated&, const product_details_updated&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(name), CEREAL_NVP(description));
  }
};

struct product_price_changed {
  static constexpr std::string_view type_name = "product.price_changed";
  static constexpr int schema_version = 1;

  money price;

  friend bool operator==(const product_price_changed&, const product_price_changed&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(price));
  }
};

struct product_restocked {
  static constexpr std::string_view type_name = "product.restocked";
  static constexpr int schema_version = 1;

  quantity added;

  friend bool operator==(const product_restocked&, const product_restocked&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("quantity", added));
  }
};

struct stock_reserved {
  static constexpr std::string_view type_name = "product.stock_reserved";
  static constexpr int schema_version = 1;

  reservation_id reservation;
  quantity reserved;

  friend bool operator==(const stock_reserved&, const stock_reserved&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("reservation_id", reservation), cereal::make_nvp("quantity", reserved));
  }
};

// The quantity is repeated in the release and commit events so that a reader (a projection)
// needs no memory of the reservation to apply them.
struct reservation_released {
  static constexpr std::string_view type_name = "product.reservation_released";
  static constexpr int schema_version = 1;

  reservation_id reservation;
  quantity released;

  friend bool operator==(const reservation_released&, const reservation_released&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("reservation_id", reservation), cereal::make_nvp("quantity", released));
  }
};

struct reservation_committed {
  static constexpr std::string_view type_name = "product.reservation_committed";
  static constexpr int schema_version = 1;

  reservation_id reservation;
  quantity committed;

  friend bool operator==(const reservation_committed&, const reservation_committed&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("reservation_id", reservation), cereal::make_nvp("quantity", committed));
  }
};

struct product_discontinued {
  static constexpr std::string_view type_name = "product.discontinued";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const product_discontinued&, const product_discontinued&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

using product_event = std::variant<product_created, product_details_updated, product_price_changed,
                                   product_restocked, stock_reserved, reservation_released,
                                   reservation_committed, product_discontinued>;

}  // namespace cqrs::schemas
