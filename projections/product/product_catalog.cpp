#include <algorithm>
#include <map>
#include <span>
#include <string_view>

#include <pqxx/pqxx>

#include "projections/pg_target.hpp"
#include "core/pg_arrays.hpp"
#include "projections/product/product_projections.hpp"
#include "schemas/contracts/product/product_codec.hpp"

namespace cqrs::projections {

namespace {

// One product's catalog row. row_folder is the one definition of what each event does to it:
// the projector's batches (catalog_batch) and the rebuild's bulk fold (catalog_fold) both fold
// with it, so the two paths cannot drift apart.
struct catalog_row {
  bool exists = false;  // created: events before that (a skipped creation) change nothing
  catalog_product product;

  bool operator==(const catalog_row&) const = default;
};

struct row_folder {
  catalog_row& row;
  std::int64_t version;

  void operator()(const schemas::product_created& e) const {
    if (row.exists) return;  // ON CONFLICT DO NOTHING
    row.exists = true;
    row.product = {row.product.product_id,   e.code.value(),  e.name, e.description, e.price.amount_minor,
                   e.price.currency.value(), e.initial_stock, 0,      false,         version};
  }
  void operator()(const schemas::product_details_updated& e) const {
    update([&] { row.product.name = e.name, row.product.description = e.description; });
  }
  void operator()(const schemas::product_price_changed& e) const {
    update([&] { row.product.price_minor = e.price.amount_minor, row.product.currency = e.price.currency.value(); });
  }
  void operator()(const schemas::product_restocked& e) const { stock(e.added.value(), 0); }
  void operator()(const schemas::stock_reserved& e) const { stock(0, e.reserved.value()); }
  void operator()(const schemas::reservation_released& e) const { stock(0, -e.released.value()); }
  void operator()(const schemas::reservation_committed& e) const { stock(-e.committed.value(), -e.committed.value()); }
  void operator()(const schemas::product_discontinued&) const { update([&] { row.product.discontinued = true; }); }

  void stock(std::int64_t on_hand, std::int64_t reserved) const {
    update([&] { row.product.on_hand += on_hand, row.product.reserved += reserved; });
  }
  template <typename Change>
  void update(Change change) const {
    if (!row.exists) return;  // UPDATE ... WHERE: no row, no change
    change();
    row.product.version = version;
  }
};

// Statement names and SQL of the batch path. Parameters of the writes, in this order: model, then
// one array per column of catalog_columns.
constexpr const char* read_rows_statement = "cqrs_catalog_read_rows";
constexpr const char* read_rows_sql =
    "SELECT product_id, sku, name, description, price_minor, currency, on_hand, reserved, discontinued, "
    "stream_version FROM product_catalog_rows WHERE model = $1 AND product_id = ANY($2::text[])";
constexpr const char* insert_rows_statement = "cqrs_catalog_insert_rows";
constexpr const char* insert_rows_sql =
    "INSERT INTO product_catalog_rows (model, product_id, sku, name, description, price_minor, currency, on_hand, "
    "reserved, discontinued, stream_version) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], "
    "$5::text[], $6::bigint[], $7::text[], $8::bigint[], $9::bigint[], $10::boolean[], $11::bigint[])";
// Two UPDATEs with the same parameters: PostgreSQL recomputes the generated `search` column
// (to_tsvector) only when the statement sets name or description, so the usual batch (stock and
// price changes) uses the one that leaves them out.
constexpr const char* update_rows_from_sql =
    " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::bigint[], "
    "$9::bigint[], $10::boolean[], $11::bigint[]) "
    "AS n(product_id, sku, name, description, price_minor, currency, on_hand, reserved, discontinued, stream_version) "
    "WHERE r.model = $1 AND r.product_id = n.product_id";
constexpr const char* update_rows_statement = "cqrs_catalog_update_rows";
constexpr const char* update_rows_set_sql =
    "UPDATE product_catalog_rows r SET sku = n.sku, name = n.name, description = n.description, "
    "price_minor = n.price_minor, currency = n.currency, on_hand = n.on_hand, reserved = n.reserved, "
    "discontinued = n.discontinued, stream_version = n.stream_version";
constexpr const char* update_rows_same_text_statement = "cqrs_catalog_update_rows_same_text";
constexpr const char* update_rows_same_text_set_sql =
    "UPDATE product_catalog_rows r SET price_minor = n.price_minor, currency = n.currency, on_hand = n.on_hand, "
    "reserved = n.reserved, discontinued = n.discontinued, stream_version = n.stream_version";

// Rows as one array per column, for unnest().
struct catalog_columns {
  std::vector<std::string> id, sku, name, description, currency;
  std::vector<std::int64_t> price_minor, on_hand, reserved, version;
  std::vector<bool> discontinued;

  void add(const catalog_product& r) {
    id.push_back(r.product_id), sku.push_back(r.sku), name.push_back(r.name), description.push_back(r.description);
    price_minor.push_back(r.price_minor), currency.push_back(r.currency), on_hand.push_back(r.on_hand);
    reserved.push_back(r.reserved), discontinued.push_back(r.discontinued), version.push_back(r.version);
  }

  void write(pqxx::transaction_base& tx, const char* statement, const std::string& model) const {
    if (id.empty()) return;
    using core::pg_array;
    tx.exec_prepared(statement, model, pg_array(id), pg_array(sku), pg_array(name), pg_array(description),
                     pg_array(price_minor), pg_array(currency), pg_array(on_hand), pg_array(reserved),
                     pg_array(discontinued), pg_array(version));
  }
};

// A projector's batch: the rows of its products read once, every event folded into them in
// memory, and each changed row written once (one INSERT for new products, one UPDATE each for rows
// with new text and for the rest), however many of its events the batch holds. The rows read stay
// current until the writes: the target holds these streams' version locks, which every other
// writer of the model's rows (force, skip, another projector after a rebalance) takes first; the
// bulk build writes only a fresh model nobody else touches yet.
class catalog_batch {
 public:
  explicit catalog_batch(std::span<const core::recorded_event> events) {
    for (const auto& event : events) {
      if (!schemas::is_product_event(event.type, event.schema_version)) continue;
      const auto [at, added] = rows_.try_emplace(detail::entity_id(event.stream));
      if (added) at->second.stored.product.product_id = at->second.row.product.product_id = at->first;
    }
  }

  bool empty() const { return rows_.empty(); }

  void read(pqxx::transaction_base& tx, const std::string& model) {
    std::vector<std::string> ids;
    ids.reserve(rows_.size());
    for (const auto& entry : rows_) ids.push_back(entry.first);
    for (const auto& row : tx.exec_prepared(read_rows_statement, model, core::pg_array(ids))) {
      auto& slot = rows_.at(row[0].as<std::string>());
      slot.stored = {true, detail::catalog_product_of(row)};
      slot.row = slot.stored;
    }
  }

  void add(const core::recorded_event& event) {
    const auto* decoded = detail::decode_if_product(event);
    if (decoded == nullptr) return;
    std::visit(row_folder{rows_.at(detail::entity_id(event.stream)).row, event.version.value()}, *decoded);
  }

  void write(pqxx::transaction_base& tx, const std::string& model) const {
    catalog_columns created, changed, same_text;
    for (const auto& entry : rows_) {
      const auto& slot = entry.second;
      if (slot.row == slot.stored) continue;
      (!slot.stored.exists ? created : same_text_as_stored(slot) ? same_text : changed).add(slot.row.product);
    }
    // A plain INSERT: the row was absent under the stream's lock, so a conflict is a broken
    // invariant and fails the batch rather than losing the product's changes.
    created.write(tx, insert_rows_statement, model);
    changed.write(tx, update_rows_statement, model);
    same_text.write(tx, update_rows_same_text_statement, model);
  }

 private:
  struct slot {
    catalog_row stored;  // as read (exists = false: no row)
    catalog_row row;     // after the batch's events
  };

  // Only creation sets the sku, so name and description are the whole text of the row.
  static bool same_text_as_stored(const slot& s) {
    return s.row.product.name == s.stored.product.name && s.row.product.description == s.stored.product.description;
  }
  std::map<std::string, slot> rows_;  // by product id: the writes touch rows in key order
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
    if (row.product.product_id.empty()) row.product.product_id = detail::entity_id(event.stream);
    std::visit(row_folder{row, event.version.value()}, *decoded);
  }

  void write(pqxx::transaction_base& tx, const std::string& model) override {
    std::vector<const catalog_product*> sorted;
    sorted.reserve(rows_.size());
    for (const auto& row : rows_) {
      if (row.exists) sorted.push_back(&row.product);
    }
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->product_id < b->product_id; });
    pqxx::stream_to copy(tx, "product_catalog_rows",
                         std::vector<std::string>{"model", "product_id", "sku", "name", "description", "price_minor",
                                                  "currency", "on_hand", "reserved", "discontinued", "stream_version"});
    for (const auto* r : sorted) {
      copy << std::make_tuple(model, r->product_id, r->sku, r->name, r->description, r->price_minor, r->currency,
                              r->on_hand, r->reserved, r->discontinued, r->version);
    }
    copy.complete();
    rows_.clear();
  }

 private:
  std::vector<catalog_row> rows_;  // by the rebuild's stream number
};

// Every parameter always appears (typed), so one statement serves every combination of filters.
constexpr const char* catalog_sql =
    "SELECT product_id, sku, name, description, price_minor, currency, on_hand, reserved, discontinued, "
    "stream_version, available FROM product_catalog_rows r "
    "JOIN projection_live_models l ON l.projection = $8::text AND l.model = r.model WHERE ($1::text IS NULL OR search "
    "@@ plainto_tsquery('simple', $1::text)) "
    "AND ($2::bigint IS NULL OR price_minor >= $2::bigint) AND ($3::bigint IS NULL OR price_minor <= $3::bigint) "
    "AND (NOT $4::boolean OR available > 0) AND ($5::boolean OR NOT discontinued) "
    "AND ($6::text IS NULL OR product_id > $6::text) ORDER BY product_id LIMIT $7::integer";

catalog_entry to_entry(const pqxx::row& row) {
  return {detail::catalog_product_of(row), row[10].as<std::int64_t>()};
}

}  // namespace

catalog_product detail::catalog_product_of(const pqxx::row& row) {
  return {row[0].as<std::string>(),  row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
          row[4].as<std::int64_t>(), row[5].as<std::string>(), row[6].as<std::int64_t>(), row[7].as<std::int64_t>(),
          row[8].as<bool>(),         row[9].as<std::int64_t>()};
}

product_catalog_projection::product_catalog_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::postgres} {}

void product_catalog_projection::apply(pqxx::transaction_base& tx, const std::string& model,
                                       const core::recorded_event& event) const {
  apply_batch(tx, model, std::span(&event, 1));
}

void product_catalog_projection::apply_batch(pqxx::transaction_base& tx, const std::string& model,
                                             std::span<const core::recorded_event> events) const {
  catalog_batch batch(events);
  if (batch.empty()) return;
  batch.read(tx, model);
  for (const auto& event : events) batch.add(event);
  batch.write(tx, model);
}

void product_catalog_projection::prepare(pqxx::connection_base& connection) const {
  connection.prepare(read_rows_statement, read_rows_sql);
  connection.prepare(insert_rows_statement, insert_rows_sql);
  connection.prepare(update_rows_statement, std::string(update_rows_set_sql) + update_rows_from_sql);
  connection.prepare(update_rows_same_text_statement,
                     std::string(update_rows_same_text_set_sql) + update_rows_from_sql);
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
