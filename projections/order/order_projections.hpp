#pragma once

// The Order read models. An order is read by id from Redis (with its payment's id and status) and
// listed from PostgreSQL (a customer's own orders, and everyone's for support and admins):
// - order_detail (Redis, category order): hash `order:<id>` with id, customer_id, lines (JSON
//   text: [{product_id, quantity, unit_price {amount, currency}}]), total_minor, currency,
//   status, payment_id, created_at, updated_at (ISO 8601 UTC) and version (the order stream's
//   version last applied: every order event sets it).
// - order_payment (Redis, category payment): hash `payment:<payment id>` with id, order_id,
//   amount_minor, currency, status, captured_minor, refunded_minor and version. A partial refund keeps `captured`; the
//   payment reads as `refunded` once the refunds reach the captured amount (payment_status()), so
//   no handler needs to read the model.
// - order_list (PostgreSQL, category order): order_list_rows (migration 0080), read newest first
//   with keyset pagination by (created_at, order_id) and an optional customer and status through
//   query_order_list.
// - order_list_payment (PostgreSQL, category payment): order_list_payments (migration 0082), one
//   row per payment with its status, captured and refunded amounts and version; query_order_list
//   joins it to each listed order by payment id (both live models), so a list item carries its
//   payment's status as the single-order read does. Order rows are written by order events only
//   and payment rows by payment events only: neither model waits for the other category, and each
//   status moves along its own stream in version order, never back.
// Every model applies each stream's events in version order (the targets' exactly-once rule), and
// an order's status is set by its own events only, so it moves along the order's lifecycle and
// never back. Category and name are parameters: the registrar passes them under the process's
// projection scope (registration.hpp), and tests build their own.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"
#include "projections/redis_client.hpp"
#include "schemas/contracts/order/order_events.hpp"
#include "schemas/contracts/payment/payment_events.hpp"

namespace cqrs::core {
class event_store;
}

namespace cqrs::projections::order {

class order_detail_projection final : public redis_projection {
 public:
  explicit order_detail_projection(std::string category = "order", std::string name = "order_detail");
  const projection_info& info() const override { return info_; }
  std::vector<redis_op> changes(const core::recorded_event& event) const override;

 private:
  projection_info info_;
};

class order_payment_projection final : public redis_projection {
 public:
  explicit order_payment_projection(std::string category = "payment", std::string name = "order_payment");
  const projection_info& info() const override { return info_; }
  std::vector<redis_op> changes(const core::recorded_event& event) const override;

 private:
  projection_info info_;
};

class order_list_projection final : public pg_projection {
 public:
  explicit order_list_projection(std::string category = "order", std::string name = "order_list");
  const projection_info& info() const override { return info_; }
  void apply(pqxx::transaction_base& tx, const std::string& model, const core::recorded_event& event) const override;
  void drop_model(pqxx::transaction_base& tx, const std::string& model) const override;

 private:
  projection_info info_;
};

class order_list_payment_projection final : public pg_projection {
 public:
  explicit order_list_payment_projection(std::string category = "payment", std::string name = "order_list_payment");
  const projection_info& info() const override { return info_; }
  void apply(pqxx::transaction_base& tx, const std::string& model, const core::recorded_event& event) const override;
  void drop_model(pqxx::transaction_base& tx, const std::string& model) const override;

 private:
  projection_info info_;
};

// An order as the read models hold it.
struct order_view {
  std::string order_id;
  std::string customer_id;
  std::string lines_json;  // [{product_id, quantity, unit_price {amount, currency}}]
  std::int64_t total_minor = 0;
  std::string currency;
  std::string status;
  std::string payment_id;
  std::optional<std::string> payment_status;  // absent until the payment model has the payment
  std::string created_at;                     // ISO 8601 UTC, microseconds
  std::string updated_at;
  std::int64_t version = 0;

  friend bool operator==(const order_view&, const order_view&) = default;
};

// One order's detail read as a script call: both live-model pointers, the order's hash, then its
// payment's hash, in one atomic step (a rebuild's switch never shows a half-built or dropped
// model). Shared by the blocking reader below and the gateway's async Redis connection.
struct order_detail_read {
  std::string_view script;
  std::vector<std::string> keys;
  std::vector<std::string> args;
};
order_detail_read order_detail_read_for(const std::string& order_id, const std::string& order_projection = "order_detail",
                                        const std::string& payment_projection = "order_payment");
// The script's reply: the order, or nothing when the live model has no such order (or a field is
// missing or not a number: a model written by other code).
std::optional<order_view> decode_order_detail(const redis_reply& reply);
std::optional<order_view> read_order_detail(redis_client& client, const std::string& order_id,
                                            const std::string& order_projection = "order_detail",
                                            const std::string& payment_projection = "order_payment");

// The order as its Redis models would show it once they had applied every event stored now: its
// stream and its payment's folded through the same handlers, read from the event store (strongly
// consistent; what a read answers when Redis misses or is down, so a status never reads older
// than one already shown). Nothing when the order does not exist.
std::optional<order_view> fold_order_view(core::event_store& store, const std::string& order_id,
                                          const std::string& order_category = "order",
                                          const std::string& payment_category = "payment");

// A payment as its stream holds it: what was asked, where it stands, what was refunded.
struct payment_view {
  std::string payment_id;
  std::string order_id;
  std::int64_t amount_minor = 0;
  std::string currency;
  std::string status;  // payment_status()
  std::int64_t refunded_minor = 0;
  std::int64_t version = 0;

  friend bool operator==(const payment_view&, const payment_view&) = default;
};

// The payment folded from the event store through order_payment's handlers (strongly
// consistent, no read model); nothing when the payment does not exist.
std::optional<payment_view> fold_payment_view(core::event_store& store, const std::string& payment_id,
                                              const std::string& payment_category = "payment");

// A payment's status as the API shows it: `refunded` once the refunds reach the captured amount.
std::string payment_status(std::string_view stored, std::int64_t captured_minor, std::int64_t refunded_minor);

// Where a page ends: the next page starts strictly after (older than) this.
struct order_list_cursor {
  std::string created_at;  // ISO 8601 as order_view has it
  std::string order_id;
};

struct order_list_query {
  std::optional<std::string> customer_id;  // only this customer's orders
  std::optional<std::string> status;       // only orders with this status
  std::optional<order_list_cursor> after;  // keyset pagination
  int limit = 20;
  std::string projection = "order_list";                  // whose live model to read
  std::string payment_projection = "order_list_payment";  // whose live model has the payments
};

// Newest first: ordered by (created_at, order_id) descending. Each order with its payment's status
// (payment_status()), or none while the payment model does not have the payment yet.
std::vector<order_view> query_order_list(pqxx::transaction_base& tx, const order_list_query& query);

// Every status an order can have, in lifecycle order (the migration's CHECK lists the same).
const std::vector<std::string_view>& order_statuses();

namespace detail {
// The id part of `<category>-<id>`.
std::string id_of(const core::stream_id& stream);
// The event decoded when it is an Order (Payment) event, nothing for other types; an undecodable
// payload is a handler_error (poison).
std::optional<schemas::order_event> decode_if_order(const core::recorded_event& event);
std::optional<schemas::payment_event> decode_if_payment(const core::recorded_event& event);
// The order's status after `event`, or nothing when the event leaves it as it was.
std::optional<std::string_view> status_after(const schemas::order_event& event);
// A payment hash as a payment; nothing when a field is missing or not a number.
std::optional<payment_view> decode_payment(const std::map<std::string, std::string>& fields);
// The lines as the models store them (JSON text).
std::string lines_json(const std::vector<schemas::order_line>& lines);
}  // namespace detail

}  // namespace cqrs::projections::order
