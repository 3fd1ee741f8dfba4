#include <pqxx/pqxx>

#include "projections/product_projections.hpp"

namespace cqrs::projections {

namespace {

// One statement per event type; every statement also records the stream version on the row.
struct catalog_writer {
  pqxx::transaction_base& tx;
  const std::string& model;
  const std::string& id;
  std::int64_t version;

  void operator()(const schemas::product_created& e) const {
    tx.exec_params(
        "INSERT INTO product_catalog_rows (model, product_id, sku, name, description, price_minor, currency, "
        "on_hand, reserved, discontinued, stream_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, false, $9) "
        "ON CONFLICT (model, product_id) DO NOTHING",
        model, id, e.code.value(), e.name, e.description, e.price.amount_minor, e.price.currency.value(),
        e.initial_stock, version);
  }
  void operator()(const schemas::product_details_updated& e) const {
    update("name = $4, description = $5", e.name, e.description);
  }
  void operator()(const schemas::product_price_changed& e) const {
    update("price_minor = $4, currency = $5", e.price.amount_minor, e.price.currency.value());
  }
  void operator()(const schemas::product_restocked& e) const { stock(e.added.value(), 0); }
  void operator()(const schemas::stock_reserved& e) const { stock(0, e.reserved.value()); }
  void operator()(const schemas::reservation_released& e) const { stock(0, -e.released.value()); }
  void operator()(const schemas::reservation_committed& e) const { stock(-e.committed.value(), -e.committed.value()); }
  void operator()(const schemas::product_discontinued&) const { update("discontinued = true"); }

  void stock(std::int64_t on_hand, std::int64_t reserved) const {
    update("on_hand = on_hand + $4, reserved = reserved + $5", on_hand, reserved);
  }
  template <typename... Args>
  void update(const std::string& set, Args&&... args) const {
    tx.exec_params(
        "UPDATE product_catalog_rows SET stream_version = $3, " + set + " WHERE model = $1 AND product_id = $2", model,
        id, version, std::forward<Args>(args)...);
  }
};

// Every parameter always appears (typed), so one statement serves every combination of filters.
constexpr const char* catalog_sql =
    "SELECT product_id, sku, name, price_minor, currency, available, discontinued FROM product_catalog_rows r "
    "JOIN projection_live_models l ON l.projection = $8::text AND l.model = r.model WHERE ($1::text IS NULL OR search "
    "@@ plainto_tsquery('simple', $1::text)) "
    "AND ($2::bigint IS NULL OR price_minor >= $2::bigint) AND ($3::bigint IS NULL OR price_minor <= $3::bigint) "
    "AND (NOT $4::boolean OR available > 0) AND ($5::boolean OR NOT discontinued) "
    "AND ($6::text IS NULL OR product_id > $6::text) ORDER BY product_id LIMIT $7::integer";

catalog_entry to_entry(const pqxx::row& row) {
  return {row[0].as<std::string>(), row[1].as<std::string>(),  row[2].as<std::string>(), row[3].as<std::int64_t>(),
          row[4].as<std::string>(), row[5].as<std::int64_t>(), row[6].as<bool>()};
}

}  // namespace

product_catalog_projection::product_catalog_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::postgres} {}

void product_catalog_projection::apply(pqxx::transaction_base& tx, const std::string& model,
                                       const core::recorded_event& event) const {
  const auto decoded = detail::decode_if_product(event);
  if (!decoded) return;
  const auto id = detail::entity_id(event.stream);
  std::visit(catalog_writer{tx, model, id, event.version.value()}, *decoded);
}

void product_catalog_projection::drop_model(pqxx::transaction_base& tx, const std::string& model) const {
  tx.exec_params("DELETE FROM product_catalog_rows WHERE model = $1", model);
}

std::vector<catalog_entry> query_catalog(pqxx::transaction_base& tx, const catalog_query& q) {
  const auto rows = tx.exec_params(catalog_sql, q.text, q.min_price_minor, q.max_price_minor, q.in_stock_only,
                                   q.include_discontinued, q.after_product_id, q.limit, q.projection);
  std::vector<catalog_entry> entries;
  for (const auto& row : rows) entries.push_back(to_entry(row));
  return entries;
}

}  // namespace cqrs::projections
