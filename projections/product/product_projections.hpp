#pragma once

// The Product read models:
// - product_detail (Redis): hash `product:<id>` (sku, name, description, price_minor, currency,
//   on_hand, reserved, available, discontinued, version) and `sku:<sku>` -> id.
// - product_catalog (PostgreSQL): product_catalog_rows behind the product_catalog view, with
//   full-text search, filters and keyset pagination (product_catalog_query), and the
//   product_low_stock view.
// Category and name are parameters: the registrar passes them under the process's projection
// scope (registration.hpp), and tests build their own.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "projections/product/catalog_product.hpp"
#include "projections/projection.hpp"
#include "projections/redis_client.hpp"
#include "schemas/contracts/product/product_events.hpp"

namespace cqrs::projections {

class product_detail_projection final : public redis_projection {
 public:
  // Scoped (registration.hpp) or a test's own category and name, isolated from other runs on the
  // same servers.
  explicit product_detail_projection(std::string category = "product", std::string name = "product_detail");
  const projection_info& info() const override { return info_; }
  std::vector<redis_op> changes(const core::recorded_event& event) const override;
  // Faster than the default op fold, same model (tests compare the two paths by digest).
  std::unique_ptr<redis_fold> start_fold() const override;

 private:
  projection_info info_;
};

class product_catalog_projection final : public pg_projection {
 public:
  explicit product_catalog_projection(std::string category = "product", std::string name = "product_catalog");
  const projection_info& info() const override { return info_; }
  void apply(pqxx::transaction_base& tx, const std::string& model, const core::recorded_event& event) const override;
  // Each product's events folded in memory: per batch one read, then one INSERT (new products)
  // and one UPDATE per kind of change (new text or not), whatever the number of events.
  void apply_batch(pqxx::transaction_base& tx, const std::string& model,
                   std::span<const core::recorded_event> events) const override;
  void prepare(pqxx::connection_base& connection) const override;
  void drop_model(pqxx::transaction_base& tx, const std::string& model) const override;
  std::unique_ptr<pg_fold> start_fold() const override;

 private:
  projection_info info_;
};

// Readers. Each resolves the live model and reads it in one atomic step (a Lua script), so a
// concurrent rebuild switch never shows a half-built or dropped model.
using product_fields = std::map<std::string, std::string>;

// One product's detail read, as a script call: the live-model pointer and the model read in one
// atomic step, so a rebuild's switch never shows a half-built or dropped model. Shared by the
// blocking reader below and the gateway's async Redis connection.
struct product_detail_read {
  std::string_view script;
  std::vector<std::string> keys;
  std::vector<std::string> args;
};
product_detail_read product_detail_read_for(const std::string& product_id, const std::string& projection = "product_detail");
// The script's reply: the hash's fields, or nothing when the live model has no such product.
std::optional<product_fields> decode_product_detail(const redis_reply& reply);
std::optional<product_fields> read_product_detail(redis_client& client, const std::string& product_id,
                                                  const std::string& projection = "product_detail");
std::optional<std::string> find_product_id_by_sku(redis_client& client, const std::string& sku,
                                                  const std::string& projection = "product_detail");

struct catalog_query {
  std::optional<std::string> text;  // full-text search over name and description
  std::optional<std::int64_t> min_price_minor;
  std::optional<std::int64_t> max_price_minor;
  bool in_stock_only = false;
  bool include_discontinued = false;
  std::optional<std::string> after_product_id;  // keyset pagination: ids strictly after this one
  int limit = 50;
  std::string projection = "product_catalog";  // whose live model to read
};

// A search result: the product and its available stock (on hand minus reserved), which the
// search filters on.
struct catalog_entry : catalog_product {
  std::int64_t available = 0;
};

std::vector<catalog_entry> query_catalog(pqxx::transaction_base& tx, const catalog_query& query);

namespace detail {
// The id part of `category-id`.
std::string entity_id(const core::stream_id& stream);
// The event decoded when it is a Product event, nullptr for other types; an undecodable payload
// is a handler_error (poison). The result stays valid until the thread's next call (the last
// event decoded is kept, so projections handed the same event in turn decode it once).
const schemas::product_event* decode_if_product(const core::recorded_event& event);
}  // namespace detail

}  // namespace cqrs::projections
