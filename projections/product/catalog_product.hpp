#pragma once

// One product as the catalog read model holds it: the projection's fold works on it, and
// read_catalog_product and query_catalog return it.

#include <cstdint>
#include <string>

namespace pqxx {
class row;
}

namespace cqrs::projections {

struct catalog_product {
  std::string product_id;
  std::string sku;
  std::string name;
  std::string description;
  std::int64_t price_minor = 0;
  std::string currency;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
  bool discontinued = false;
  std::int64_t version = 0;  // the stream version the row reflects

  bool operator==(const catalog_product&) const = default;
};

namespace detail {
// A product from its ten columns in the order above (version is stream_version), from the first.
catalog_product catalog_product_of(const pqxx::row& row);
}  // namespace detail

}  // namespace cqrs::projections
