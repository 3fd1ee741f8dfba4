#include "tests/redis/order_world.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

namespace {

template <typename Event>
std::vector<core::new_event> encoded(const std::vector<Event>& events) {
  std::vector<core::new_event> batch;
  for (const auto& event : events) {
    auto e = schemas::encode(event);
    batch.push_back({e.type, e.schema_version, e.data, std::nullopt});
  }
  return batch;
}

}  // namespace

order_world::order_world(const std::string& prefix) : world_(prefix) {}

void order_world::order(const std::string& id, const std::vector<schemas::order_event>& events) {
  const auto stored = world_.append_to(core::stream_id::parse(order_category() + "-" + id).value(), encoded(events));
  detail().apply(stored);
  list().apply(stored);
}

void order_world::payment(const std::string& id, const std::vector<schemas::payment_event>& events) {
  const auto stored = world_.append_to(core::stream_id::parse(payment_category() + "-" + id).value(), encoded(events));
  payments().apply(stored);
  list_payments().apply(stored);
}

std::optional<projections::order::order_view> order_world::read(const std::string& id) {
  return projections::order::read_order_detail(world_.redis(), id, world_.scope().projection("order_detail"),
                                                world_.scope().projection("order_payment"));
}

std::optional<projections::order::order_view> order_world::fold(const std::string& id) {
  return projections::order::fold_order_view(store(), id, order_category(), payment_category());
}

std::vector<projections::order::order_view> order_world::page(projections::order::order_list_query q) {
  q.projection = world_.scope().projection("order_list");
  q.payment_projection = world_.scope().projection("order_list_payment");
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
