#pragma once

// Why the Product aggregate refuses a command. The numeric values and the names are stable:
// callers (HTTP answers, other services) match on them, so never renumber or rename; only add.

#include <string>
#include <string_view>

namespace cqrs::commands::product {

enum class errc {
  product_already_exists = 1,
  product_not_found = 2,
  product_discontinued = 3,
  invalid_sku = 4,
  sku_already_taken = 5,
  invalid_name = 6,
  invalid_description = 7,
  invalid_price = 8,
  invalid_currency = 9,
  invalid_quantity = 10,
  stock_limit_exceeded = 11,
  insufficient_stock = 12,
  invalid_reservation_id = 13,
  reservation_id_already_used = 14,
  reservation_not_found = 15,
  reservation_closed = 16,
  invalid_reason = 17,
};

// "product.insufficient_stock": the code as it appears outside the process.
std::string_view to_string(errc code);

struct rejection {
  errc code;
  std::string detail;  // for humans; never matched on

  friend bool operator==(const rejection&, const rejection&) = default;
};

}  // namespace cqrs::commands::product
