#include <algorithm>
#include <string_view>
#include <unordered_map>

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

// The catalog row of one product as the statements above would leave it: the bulk fold.
struct catalog_row {
  bool exists = false;  // created: the per-event path's UPDATEs find no row before that
  std::string sku, name, description, currency;
  std::int64_t price_minor = 0, on_hand = 0, reserved = 0, version = 0;
  bool discontinued = false;
};

struct row_folder {
  catalog_row& row;
  std::int64_t version;

  void operator()(const schemas::product_created& e) const {
    if (row.exists) return;  // ON CONFLICT DO NOTHING
    row = {true, e.code.value(), e.name, e.description, e.price.currency.value(), e.price.amount_minor, e.initial_stock,
           0, version, false};
  }
  void operator()(const schemas::product_details_updated& e) const {
    update([&] { row.name = e.name, row.description = e.description; });
  }
  void operator()(const schemas::product_price_changed& e) const {
    update([&] { row.price_minor = e.price.amount_minor, row.currency = e.price.currency.value(); });
  }
  void operator()(const schemas::product_restocked& e) const { stock(e.added.value(), 0); }
  void operator()(const schemas::stock_reserved& e) const { stock(0, e.reserved.value()); }
  void operator()(const schemas::reservation_released& e) const { stock(0, -e.released.value()); }
  void operator()(const schemas::reservation_committed& e) const { stock(-e.committed.value(), -e.committed.value()); }
  void operator()(const schemas::product_discontinued&) const { update([&] { row.discontinued = true; }); }

  void stock(std::int64_t on_hand, std::int64_t reserved) const {
    update([&] { row.on_hand += on_hand, row.reserved += reserved; });
  }
  template <typename Change>
  void update(Change change) const {
    if (!row.exists) return;  // UPDATE ... WHERE: no row, no change
    change();
    row.version = version;
  }
};

// One row per product in memory (not per event), by the rebuild's stream number, written with one
// COPY in key order.
class catalog_fold final : public pg_fold {
 public:
  void add(const core::recorded_event& event, std::size_t stream) override {
    const auto* decoded = detail::decode_if_product(event);
    if (decoded == nullptr) return;
    if (stream >= rows_.size()) rows_.resize(stream + 1);
    auto& row = rows_[stream];
    const bool existed = row.second.exists;
    std::visit(row_folder{row.second, event.version.value()}, *decoded);
    if (!existed && row.second.exists) row.first = detail::entity_id(event.stream);
  }

  void write(pqxx::transaction_base& tx, const std::string& model) override {
    std::vector<const std::pair<std::string, catalog_row>*> sorted;
    sorted.reserve(rows_.size());
    for (const auto& entry : rows_) {
      if (entry.second.exists) sorted.push_back(&entry);
    }
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
    pqxx::stream_to copy(tx, "product_catalog_rows",
                         std::vector<std::string>{"model", "product_id", "sku", "name", "description", "price_minor",
                                                  "currency", "on_hand", "reserved", "discontinued", "stream_version"});
    for (const auto* entry : sorted) {
      const auto& r = entry->second;
      copy << std::make_tuple(model, entry->first, r.sku, r.name, r.description, r.price_minor, r.currency, r.on_hand,
                              r.reserved, r.discontinued, r.version);
    }
    copy.complete();
    rows_.clear();
  }

 private:
  std::vector<std::pair<std::string, catalog_row>> rows_;  // product id, row
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
  const auto* decoded = detail::decode_if_product(event);
  if (decoded == nullptr) return;
  const auto id = detail::entity_id(event.stream);
  std::visit(catalog_writer{tx, model, id, event.version.value()}, *decoded);
}

std::unique_ptr<pg_fold> product_catalog_projection::start_fold() const { return std::make_unique<catalog_fold>(); }

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
