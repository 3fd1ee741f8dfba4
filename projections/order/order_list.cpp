#include <variant>

#include <pqxx/pqxx>

#include "projections/history.hpp"
#include "projections/order/order_projections.hpp"

namespace cqrs::projections::order {

namespace {

// One statement per event: an order has a handful of events in its life, so the generic target's
// batch and bulk paths (an event at a time) are fast enough here.
void apply_event(pqxx::transaction_base& tx, const std::string& model, const core::recorded_event& event,
                 const schemas::order_event& decoded) {
  const auto id = detail::id_of(event.stream);
  const auto at = format_timestamp(event.recorded_at);
  const auto version = event.version.value();
  if (const auto* placed = std::get_if<schemas::order_placed>(&decoded)) {
    tx.exec_params(
        "INSERT INTO order_list_rows (model, order_id, customer_id, status, lines, total_minor, currency, payment_id, "
        "created_at, updated_at, stream_version) "
        "VALUES ($1, $2, $3, 'placed', $4::jsonb, $5, $6, $7, $8::timestamptz, $8::timestamptz, $9) "
        "ON CONFLICT (model, order_id) DO NOTHING",
        model, id, placed->customer.value(), detail::lines_json(placed->lines), placed->total.amount_minor,
        placed->total.currency.value(), placed->payment.value(), at, version);
    return;
  }
  const auto status = detail::status_after(decoded);
  tx.exec_params(
      "UPDATE order_list_rows SET status = coalesce($3::text, status), updated_at = $4::timestamptz, "
      "stream_version = $5 WHERE model = $1 AND order_id = $2",
      model, id, status ? std::optional<std::string>(std::string(*status)) : std::nullopt, at, version);
}

constexpr const char* order_list_sql =
    "SELECT r.order_id, r.customer_id, r.lines::text, r.total_minor, r.currency, r.status, r.payment_id, "
    "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), r.stream_version "
    "FROM order_list_rows r JOIN projection_live_models l ON l.projection = $1::text AND l.model = r.model "
    "WHERE ($2::text IS NULL OR r.customer_id = $2::text) AND ($3::text IS NULL OR r.status = $3::text) "
    "AND ($4::timestamptz IS NULL OR (r.created_at, r.order_id) < ($4::timestamptz, $5::text)) "
    "ORDER BY r.created_at DESC, r.order_id DESC LIMIT $6::integer";

}  // namespace

order_list_projection::order_list_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::postgres} {}

void order_list_projection::apply(pqxx::transaction_base& tx, const std::string& model,
                                  const core::recorded_event& event) const {
  const auto decoded = detail::decode_if_order(event);
  if (!decoded) return;
  apply_event(tx, model, event, *decoded);
}

void order_list_projection::drop_model(pqxx::transaction_base& tx, const std::string& model) const {
  tx.exec_params("DELETE FROM order_list_rows WHERE model = $1", model);
}

std::vector<order_view> query_order_list(pqxx::transaction_base& tx, const order_list_query& q) {
  std::optional<std::string> after_at;
  std::optional<std::string> after_id;
  if (q.after) after_at = q.after->created_at, after_id = q.after->order_id;
  const auto rows = tx.exec_params(order_list_sql, q.projection, q.customer_id, q.status, after_at, after_id, q.limit);
  std::vector<order_view> out;
  for (const auto& row : rows) {
    out.push_back(order_view{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                             row[3].as<std::int64_t>(), row[4].as<std::string>(), row[5].as<std::string>(),
                             row[6].as<std::string>(), std::nullopt, row[7].as<std::string>(),
                             row[8].as<std::string>(), row[9].as<std::int64_t>()});
  }
  return out;
}

}  // namespace cqrs::projections::order
