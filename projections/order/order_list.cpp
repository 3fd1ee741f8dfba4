#include <optional>
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

// What a payment event changes in its row: the status as order_payment stores it, the captured and
// refunded amounts. Every event also sets the row's version.
struct payment_change {
  std::optional<std::string> status;
  std::optional<std::int64_t> captured_minor;
  std::optional<std::int64_t> refunded_minor;
};

struct payment_change_of {
  payment_change status(const char* s) const { return {s, std::nullopt, std::nullopt}; }
  payment_change operator()(const schemas::payment_requested&) const { return status("requested"); }
  // Pending at the provider is still `requested` to the customer.
  payment_change operator()(const schemas::payment_pending&) const { return status("requested"); }
  payment_change operator()(const schemas::payment_authorized&) const { return status("authorized"); }
  payment_change operator()(const schemas::payment_captured& e) const {
    return {"captured", e.amount.amount_minor, std::nullopt};
  }
  payment_change operator()(const schemas::payment_declined&) const { return status("declined"); }
  payment_change operator()(const schemas::payment_failed&) const { return status("failed"); }
  payment_change operator()(const schemas::payment_voided&) const { return status("voided"); }
  payment_change operator()(const schemas::payment_refunded& e) const {
    return {std::nullopt, std::nullopt, e.refunded_total.amount_minor};
  }
};

// The row is created by payment.requested, the stream's first event; later events update it.
void apply_payment(pqxx::transaction_base& tx, const std::string& model, const core::recorded_event& event,
                   const schemas::payment_event& decoded) {
  const auto id = detail::id_of(event.stream);
  const auto version = event.version.value();
  if (const auto* requested = std::get_if<schemas::payment_requested>(&decoded)) {
    tx.exec_params(
        "INSERT INTO order_list_payments (model, payment_id, order_id, status, captured_minor, refunded_minor, "
        "stream_version) VALUES ($1, $2, $3, 'requested', 0, 0, $4) ON CONFLICT (model, payment_id) DO NOTHING",
        model, id, requested->order.value(), version);
    return;
  }
  const auto change = std::visit(payment_change_of{}, decoded);
  tx.exec_params(
      "UPDATE order_list_payments SET status = coalesce($3::text, status), "
      "captured_minor = coalesce($4::bigint, captured_minor), refunded_minor = coalesce($5::bigint, refunded_minor), "
      "stream_version = $6 WHERE model = $1 AND payment_id = $2",
      model, id, change.status, change.captured_minor, change.refunded_minor, version);
}

constexpr const char* order_list_sql =
    "SELECT r.order_id, r.customer_id, r.lines::text, r.total_minor, r.currency, r.status, r.payment_id, "
    "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), r.stream_version, "
    "p.status, p.captured_minor, p.refunded_minor "
    "FROM order_list_rows r JOIN projection_live_models l ON l.projection = $1::text AND l.model = r.model "
    "LEFT JOIN projection_live_models pl ON pl.projection = $7::text "
    "LEFT JOIN order_list_payments p ON p.model = pl.model AND p.payment_id = r.payment_id "
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

order_list_payment_projection::order_list_payment_projection(std::string category, std::string name)
    : info_{std::move(name), 1, std::move(category), target_kind::postgres} {}

void order_list_payment_projection::apply(pqxx::transaction_base& tx, const std::string& model,
                                          const core::recorded_event& event) const {
  const auto decoded = detail::decode_if_payment(event);
  if (!decoded) return;
  apply_payment(tx, model, event, *decoded);
}

void order_list_payment_projection::drop_model(pqxx::transaction_base& tx, const std::string& model) const {
  tx.exec_params("DELETE FROM order_list_payments WHERE model = $1", model);
}

std::vector<order_view> query_order_list(pqxx::transaction_base& tx, const order_list_query& q) {
  std::optional<std::string> after_at;
  std::optional<std::string> after_id;
  if (q.after) after_at = q.after->created_at, after_id = q.after->order_id;
  const auto rows = tx.exec_params(order_list_sql, q.projection, q.customer_id, q.status, after_at, after_id, q.limit,
                                   q.payment_projection);
  std::vector<order_view> out;
  for (const auto& row : rows) {
    std::optional<std::string> payment;
    if (!row[10].is_null()) {
      payment = payment_status(row[10].as<std::string>(), row[11].as<std::int64_t>(), row[12].as<std::int64_t>());
    }
    out.push_back(order_view{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                             row[3].as<std::int64_t>(), row[4].as<std::string>(), row[5].as<std::string>(),
                             row[6].as<std::string>(), std::move(payment), row[7].as<std::string>(),
                             row[8].as<std::string>(), row[9].as<std::int64_t>()});
  }
  return out;
}

}  // namespace cqrs::projections::order
