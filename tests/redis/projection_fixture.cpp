#include "tests/redis/projection_fixture.hpp"

#include <random>
#include <span>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "projections/product/product_projections.hpp"
#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "tests/redis/world_support.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

const std::string& run_id() {
  static const std::string id = [] {
    std::random_device device;
    std::mt19937_64 generator((static_cast<std::uint64_t>(device()) << 32) | device());
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string text;
    for (int i = 0; i < 10; ++i) text.push_back(alphabet[generator() % 36]);
    return text;
  }();
  return id;
}

projection_world::projection_world(const std::string& prefix)
    : scope_(prefix + "_" + run_id()),
      category_(scope_.category("product")),
      detail_name_(scope_.projection("product_detail")),
      catalog_name_(scope_.projection("product_catalog")) {
  open_world(scope_, upcasters_, store_, redis_, projections_, targets_);
}

core::stream_id projection_world::stream(const std::string& id) const {
  return core::stream_id::parse(category_ + "-" + id).value();
}

std::vector<core::recorded_event> projection_world::append(const std::string& id,
                                                           const std::vector<schemas::product_event>& events) {
  return append_any_version(*store_, stream(id), events);
}

std::vector<core::recorded_event> projection_world::append_to(const core::stream_id& stream,
                                                              std::vector<core::new_event> batch) {
  return append_batch_any_version(*store_, stream, std::move(batch));
}

std::vector<core::recorded_event> projection_world::whole_stream(const std::string& id) {
  std::vector<core::recorded_event> all;
  const auto end = store_->for_each_stream_batch(
      stream(id), core::stream_version{1}, 100,
      [&](const core::stream_batch& b) { all.insert(all.end(), b.events.begin(), b.events.end()); });
  (void)end.value();
  return all;
}

std::string projection_world::redis_digest(const std::vector<std::string>& ids) {
  std::string digest;
  for (const auto& id : ids) {
    const auto fields = projections::read_product_detail(*redis_, id, detail_name_);
    digest += id + (fields ? "" : " missing") + "\n";
    if (!fields) continue;
    for (const auto& [key, value] : *fields) digest += fmt::format("  {}={}\n", key, value);
    const auto by_sku = projections::find_product_id_by_sku(*redis_, fields->at("sku"), detail_name_);
    digest += "  by_sku=" + by_sku.value_or("none") + "\n";
  }
  return digest;
}

std::string projection_world::pg_digest(const std::vector<std::string>& ids) {
  pqxx::connection connection(pg_url());
  pqxx::work tx(connection);
  std::string digest;
  for (const auto& id : ids) {
    const auto rows = tx.exec_params(
        "SELECT r.product_id, r.sku, r.name, r.description, r.price_minor, r.currency, r.on_hand, r.reserved, "
        "r.available, r.discontinued, r.stream_version, r.search::text FROM product_catalog_rows r "
        "JOIN projection_live_models l ON l.projection = $1 AND l.model = r.model WHERE r.product_id = $2",
        catalog_name_, id);
    digest += id + (rows.empty() ? " missing" : "") + "\n";
    for (const auto& row : rows) {
      for (const auto& field : row) digest += fmt::format("  {}\n", field.c_str());
    }
  }
  return digest;
}

schemas::product_created created(const std::string& sku, std::int64_t stock, std::int64_t price) {
  return {schemas::sku(sku), "Name " + sku, "A fine description of " + sku,
          schemas::money{price, schemas::currency_code("EUR")}, stock};
}
schemas::product_restocked restocked(std::int64_t n) { return {schemas::quantity(n)}; }
schemas::stock_reserved reserved(const std::string& reservation, std::int64_t n) {
  return {schemas::reservation_id(reservation), schemas::quantity(n)};
}
schemas::reservation_committed committed(const std::string& reservation, std::int64_t n) {
  return {schemas::reservation_id(reservation), schemas::quantity(n)};
}
schemas::reservation_released released(const std::string& reservation, std::int64_t n) {
  return {schemas::reservation_id(reservation), schemas::quantity(n)};
}

std::vector<core::recorded_event> product_history(projection_world& world, const std::string& id) {
  return world.append(id, {created("SKU-" + id, 10), restocked(5), reserved("r1", 3), committed("r1", 3),
                           reserved("r2", 4), released("r2", 4)});
}

projections::apply_counts one_at_a_time(projections::projection_target& target,
                                        const std::vector<core::recorded_event>& events) {
  projections::apply_counts counts;
  for (const auto& event : events) counts += target.apply(std::span(&event, 1));
  return counts;
}

namespace {

std::vector<core::recorded_event> pick(const std::vector<core::recorded_event>& events, const std::vector<int>& picks) {
  std::vector<core::recorded_event> out;
  for (const int i : picks) out.push_back(events.at(static_cast<std::size_t>(i)));
  return out;
}

}  // namespace

twin_delivery picked_histories(projection_world& batched, projection_world& single, const std::vector<int>& picks) {
  twin_delivery out;
  for (const auto* id : {"p1", "p2"}) {
    const auto b = pick(product_history(batched, id), picks);
    const auto r = pick(product_history(single, id), picks);
    out.batch.insert(out.batch.end(), b.begin(), b.end());
    out.reference.insert(out.reference.end(), r.begin(), r.end());
  }
  return out;
}

std::vector<std::string> product_ids(int n) {
  std::vector<std::string> ids;
  for (int p = 0; p < n; ++p) ids.push_back("p" + std::to_string(p));
  return ids;
}

}  // namespace cqrs::tests
