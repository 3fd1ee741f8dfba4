#include "commands/product/product_errc.hpp"

#include <stdexcept>

namespace cqrs::commands::product {

// No `default:` on purpose: a new code without a name must fail to compile (-Wswitch -Werror).
std::string_view to_string(errc code) {
  switch (code) {
    case errc::product_already_exists: return "product.already_exists";
    case errc::product_not_found: return "product.not_found";
    case errc::product_discontinued: return "product.discontinued";
    case errc::invalid_sku: return "product.invalid_sku";
    case errc::sku_already_taken: return "product.sku_already_taken";
    case errc::invalid_name: return "product.invalid_name";
    case errc::invalid_description: return "product.invalid_description";
    case errc::invalid_price: return "product.invalid_price";
    case errc::invalid_currency: return "product.invalid_currency";
    case errc::invalid_quantity: return "product.invalid_quantity";
    case errc::stock_limit_exceeded: return "product.stock_limit_exceeded";
    case errc::insufficient_stock: return "product.insufficient_stock";
    case errc::invalid_reservation_id: return "product.invalid_reservation_id";
    case errc::reservation_id_already_used: return "product.reservation_id_already_used";
    case errc::reservation_not_found: return "product.reservation_not_found";
    case errc::reservation_closed: return "product.reservation_closed";
    case errc::invalid_reason: return "product.invalid_reason";
  }
  throw std::invalid_argument("not a product errc value");
}

}  // namespace cqrs::commands::product
