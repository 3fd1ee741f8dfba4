#include "projections/product/product_reads.hpp"

#include <string>

#include <pqxx/pqxx>

namespace cqrs::projections {

namespace {

constexpr const char* product_sql =
    "SELECT r.product_id, r.sku, r.name, r.description, r.price_minor, r.currency, r.on_hand, r.reserved, "
    "r.discontinued, r.stream_version FROM product_catalog_rows r "
    "JOIN projection_live_models l ON l.projection = $2 AND l.model = r.model WHERE r.product_id = $1";

}  // namespace

std::optional<catalog_product> read_catalog_product(pqxx::transaction_base& tx, const std::string& product_id,
                                                    const std::string& projection) {
  const auto rows = tx.exec_params(product_sql, product_id, projection);
  if (rows.empty()) return std::nullopt;
  return detail::catalog_product_of(rows[0]);
}

}  // namespace cqrs::projections
