#pragma once

// Older schema versions of Product events, kept so that events stored under them can still be
// read. Each has an `upcast` to the next version; the codec chains them up to the current one.
// Never edit a shape here: it describes bytes already in the database.

#include <cstdint>
#include <string>
#include <string_view>

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>

#include "schemas/contracts/product/product_events.hpp"
#include "schemas/contracts/product/product_values.hpp"

namespace cqrs::schemas {

// product.created v1: before descriptions and currencies. Every v1 price was in euros, the only
// currency the catalog had then.
struct product_created_v1 {
  static constexpr std::string_view type_name = "product.created";
  static constexpr int schema_version = 1;
  static constexpr std::string_view v1_currency = "EUR";

  sku code;
  std::string name;
  std::int64_t price_minor = 0;
  std::int64_t initial_stock = 0;

  template <typename Archive>
  void serialize(Archive& ar) {
    ar(cereal::make_nvp("sku", code), CEREAL_NVP(name), CEREAL_NVP(price_minor), CEREAL_NVP(initial_stock));
  }

  static product_created upcast(const product_created_v1& old) {
    return product_created{old.code, old.name, "", money{old.price_minor, currency_code(std::string(v1_currency))},
                           old.initial_stock};
  }
};

}  // namespace cqrs::schemas
