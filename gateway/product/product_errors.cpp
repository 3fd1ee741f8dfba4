#include "gateway/product/product_errors.hpp"

#include <cstdlib>

namespace cqrs::gateway {

namespace {

constexpr auto make = &make_error_mapping;

}  // namespace

error_mapping map_error(commands::product::errc code) {
  using commands::product::errc;
  const auto name = commands::product::to_string(code);
  switch (code) {
    case errc::product_already_exists: return make(409, name, "The product already exists");
    case errc::product_not_found: return make(404, name, "No such product");
    case errc::product_discontinued: return make(422, name, "The product is discontinued");
    case errc::invalid_sku: return make(400, name, "Invalid SKU");
    case errc::sku_already_taken: return make(409, name, "The SKU belongs to another product");
    case errc::invalid_name: return make(400, name, "Invalid name");
    case errc::invalid_description: return make(400, name, "Invalid description");
    case errc::invalid_price: return make(400, name, "Invalid price");
    case errc::invalid_currency: return make(400, name, "Invalid currency");
    case errc::invalid_quantity: return make(400, name, "Invalid quantity");
    case errc::stock_limit_exceeded: return make(422, name, "The stock would exceed its limit");
    case errc::insufficient_stock: return make(422, name, "Not enough stock available");
    case errc::invalid_reservation_id: return make(400, name, "Invalid reservation id");
    case errc::reservation_id_already_used: return make(409, name, "The reservation id was already used");
    case errc::reservation_not_found: return make(404, name, "No such reservation");
    case errc::reservation_closed: return make(422, name, "The reservation is already released or committed");
    case errc::invalid_reason: return make(400, name, "Invalid reason");
  }
  std::abort();
}

std::string_view field_of(commands::product::errc code) {
  using commands::product::errc;
  switch (code) {
    case errc::invalid_sku: return "sku";
    case errc::invalid_name: return "name";
    case errc::invalid_description: return "description";
    case errc::invalid_price: return "price.amount";
    case errc::invalid_currency: return "price.currency";
    case errc::invalid_quantity: return "quantity";
    case errc::invalid_reservation_id: return "reservation_id";
    case errc::invalid_reason: return "reason";
    case errc::product_already_exists:
    case errc::product_not_found:
    case errc::product_discontinued:
    case errc::sku_already_taken:
    case errc::stock_limit_exceeded:
    case errc::insufficient_stock:
    case errc::reservation_id_already_used:
    case errc::reservation_not_found:
    case errc::reservation_closed:
      return "";
  }
  std::abort();
}

}  // namespace cqrs::gateway
