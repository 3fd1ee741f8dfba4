#include "projections/product/product_projections_domain.hpp"

#include "projections/product/product_projections.hpp"

namespace cqrs::projections::product {

void register_projections(projection_registrar& out) {
  out.add<product_detail_projection>("product", "product_detail");
  out.add<product_catalog_projection>("product", "product_catalog");
}

}  // namespace cqrs::projections::product
