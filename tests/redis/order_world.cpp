#include "tests/redis/order_world.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

order_world::order_world(const std::string& prefix)
    : scope_(prefix + "_" + run_id()),
      order_category_(scope_.category("order")),
      payment_category_(scope_.category("payment")),
      detail_name_(scope_.projection("order_detail")),
      payment_name_(scope_.projection("order_payment")),
      list_name_(scope_.projection("order_list")) {
  schemas::register_upcasters(upcasters_);
  core::store_options options;
  options.url = pg_url();
  options.upcasters = &upcasters_;
  store_ = std::make_unique<core::event_store>(options);
  redis_ = std::make_unique<projections::redis_client>(redis_url());
  projections_ = projections::default_projections(scope_);
  targets_ = std::make_unique<projections::target_set>(projections_, *redis_, *store_, pg_url());
}

std::vector<core::recorded_event> order_world::append(const core::stream_id& stream, std::vector<core::new_event> batch) {
  const auto before = store_->current_version(stream);
  (void)store_->append(stream, core::expected_version::any(), std::move(batch)).value();
  std::vector<core::recorded_event> added;
  (void)store_
      ->for_each_stream_batch(stream, core::stream_version{before.value() + 1}, 100,
                              [&](const core::stream_batch& b) { added.insert(added.end(), b.events.begin(), b.events.end()); })
      .value();
  return added;
}

void order_world::order(const std::string& id, const std::vector<schemas::order_event>& events) {
  std::vector<core::new_event> batch;
  for (const auto& event : events) {
    auto encoded = schemas::encode(event);
    batch.push_back({encoded.type, encoded.schema_version, encoded.data, std::nullopt});
  }
  const auto stored = append(core::stream_id::parse(order_category_ + "-" + id).value(), std::move(batch));
  detail().apply(stored);
  list().apply(stored);
}

void order_world::payment(const std::string& id, const std::vector<schemas::payment_event>& events) {
  std::vector<core::new_event> batch;
  for (const auto& event : events) {
    auto encoded = schemas::encode(event);
    batch.push_back({encoded.type, encoded.schema_version, encoded.data, std::nullopt});
  }
  payments().apply(append(core::stream_id::parse(payment_category_ + "-" + id).value(), std::move(batch)));
}

std::optional<projections::order::order_view> order_world::read(const std::string& id) {
  return projections::order::read_order_detail(*redis_, id, detail_name_, payment_name_);
}

std::optional<projections::order::order_view> order_world::fold(const std::string& id) {
  return projections::order::fold_order_view(*store_, id, order_category_, payment_category_);
}

std::vector<projections::order::order_view> order_world::page(projections::order::order_list_query q) {
  q.projection = list_name_;
  pqxx::connection connection(pg_url());
  pqxx::work tx(connection);
  return projections::order::query_order_list(tx, q);
}

std::string order_world::digest(const std::vector<std::string>& ids) {
  const auto line = [](const projections::order::order_view& v) {
    return fmt::format("{} {} {} {} {} {} {} {} {} {}\n", v.order_id, v.customer_id, v.lines_json, v.total_minor,
                       v.currency, v.status, v.payment_id, v.payment_status.value_or("-"), v.created_at, v.version);
  };
  std::string text;
  for (const auto& id : ids) {
    const auto view = read(id);
    text += view ? line(*view) : id + " missing\n";
  }
  projections::order::order_list_query all;
  all.limit = 1000;
  for (const auto& row : page(all)) text += "row " + line(row);
  return text;
}

}  // namespace cqrs::tests
