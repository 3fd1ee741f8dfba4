#pragma once

// Commands of the Product aggregate: what a caller asks for. The product a command targets is not
// a field: it travels in the command envelope (commands/command_pipeline.hpp) as the stream id.
// Commands are contracts too: they are serialized to compare idempotent retries and printed as
// JSON in logs, so each has a name and a schema version.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>

#include "schemas/contracts/product/product_values.hpp"

namespace cqrs::schemas {

struct create_product {
  static constexpr std::string_view type_name = "product.create";
  static constexpr int schema_version = 1;

  sku code;
  std::string name;
  std::string description;
  money price;
  std::int64_t initial_stock = 0;

  friend bool operator==(const create_product&, const create_product&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("sku", code), CEREAL_NVP(name), CEREAL_NVP(description), CEREAL_NVP(price),
       CEREAL_NVP(initial_stock));
  }
};

struct update_product_details {
  static constexpr std::string_view type_name = "product.update_details";
  static constexpr int schema_version = 1;

  std::string name;
  std::string description;

  friend bool operator==(const update_product_details&, const update_product_details&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(name), CEREAL_NVP(description));
  }
};

struct change_product_price {
  static constexpr std::string_view type_name = "product.change_price";
  static constexpr int schema_version = 1;

  money price;

  friend bool operator==(const change_product_price&, const change_product_price&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(price));
  }
};

struct restock_product {
  static constexpr std::string_view type_name = "product.restock";
  static constexpr int schema_version = 1;

  quantity added;

  friend bool operator==(const restock_product&, const restock_product&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("quantity", added));
  }
};

struct reserve_stock {
  static constexpr std::string_view type_name = "product.reserve_stock";
  static constexpr int schema_version = 1;

  reservation_id reservation;
  quantity wanted;

  friend bool operator==(const reserve_stock&, const reserve_stock&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("reservation_id", reservation), cereal::make_nvp("quantity", wanted));
  }
};

struct release_reservation {
  static constexpr std::string_view type_name = "product.release_reservation";
  static constexpr int schema_version = 1;

  reservation_id reservation;

  friend bool operator==(const release_reservation&, const release_reservation&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("reservation_id", reservation));
  }
};

struct commit_reservation {
  static constexpr std::string_view type_name = "product.commit_reservation";
  static constexpr int schema_version = 1;

  reservation_id reservation;

  friend bool operator==(const commit_reservation&, const commit_reservation&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("reservation_id", reservation));
  }
};

struct discontinue_product {
  static constexpr std::string_view type_name = "product.discontinue";
  static constexpr int schema_version = 1;

  std::string reason;

  friend bool operator==(const discontinue_product&, const discontinue_product&) = default;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(reason));
  }
};

using product_command = std::variant<create_product, update_product_details, change_product_price, restock_product,
                                     reserve_stock, release_reservation, commit_reservation, discontinue_product>;

}  // namespace cqrs::schemas
