#pragma once

// One product of the PostgreSQL catalog model, for the gateway's queries that the projection
// workers do not need: the live model, joined in the same statement, so a rebuild's switch never
// shows a half-built model; the fallback when Redis misses or is down.

#include <optional>
#include <string>

#include "projections/product/catalog_product.hpp"

namespace pqxx {
class transaction_base;
}

namespace cqrs::projections {

std::optional<catalog_product> read_catalog_product(pqxx::transaction_base& tx, const std::string& product_id,
                                                    const std::string& projection = "product_catalog");

}  // namespace cqrs::projections
