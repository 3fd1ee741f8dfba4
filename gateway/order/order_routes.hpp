#pragma once

// The Order domain's command routes (docs/http-api.md, "Orders"):
//
//   POST /v1/orders                  a customer       {lines: [{product_id, quantity}],       202
//                                                      shipping_address: {line1, city,
//                                                      postal_code, country},
//                                                      payment: {card_token}}
//   POST /v1/orders/{id}/cancel      its customer, admin                                       200
//   POST /v1/orders/{id}/ship        admin                                                     200
//   POST /v1/orders/{id}/deliver     admin                                                     200
//   POST /v1/orders/{id}/refunds     admin            {amount: {amount, currency}}             202
//
// Placing an order fixes each line's unit price from the product's state on the write side (the
// product's stream, loaded on the PostgreSQL pool; an unknown product is a 400 naming its line),
// makes the order's id and its payment's id (derived from the caller and the Idempotency-Key when
// one is given, so a retry targets the same order), and answers 202 with Location: the order
// process reserves the stock and charges the card afterwards. A refund is answered 202 with its
// refund_id for the same reason. The order's rules (1-50 lines, each product once, one currency,
// the address, the lifecycle) are the aggregate's: a command its state does not accept answers
// 422 naming the state (gateway/order/order_errors.cpp). An accepted placement is followed, on
// the same pool thread, by payment.request {order_id, total, card_token} on the payment's stream
// (the card token travels there only), under an idempotency key derived from the order's: a
// retried POST with the same Idempotency-Key replays the placement and completes the request
// once; PostgreSQL failing for it answers 503 with Retry-After, so that retry happens. Every other machinery (strict bodies,
// headers, the cached path, outcomes) is command_routes.hpp.

#include <string_view>

#include "commands/order/order_pipeline.hpp"
#include "gateway/command_routes.hpp"
#include "gateway/domain.hpp"
#include "gateway/order/order_errors.hpp"

namespace cqrs::gateway::order {

struct order_binding {
  using aggregate = commands::order::order_aggregate;
  static constexpr std::string_view noun = "order";
  static constexpr std::string_view collection = "/v1/orders";
  static constexpr std::string_view id_purpose = "cqrs.order-id.v1";
  static error_mapping map_error(commands::order::errc code) { return gateway::map_error(code); }
  static std::string_view code_name(commands::order::errc code) { return commands::order::to_string(code); }
  static std::string_view field_of(commands::order::errc code) { return gateway::field_of(code); }
};

// The most lines an order may have (the aggregate's rule; read no further than that).
inline constexpr std::size_t max_order_lines = 50;

void add_order_command_routes(router& r, const domain_context& context);

namespace detail {

using prepared_order = prepared<order_binding>;
using order_preparation = preparation_for<order_binding>;

order_preparation prepare_place(const request_context& ctx);
order_preparation prepare_cancel(const request_context& ctx);
order_preparation prepare_refund(const request_context& ctx);

// The payment id of an order: derived from the order's id, so a retried placement (same order
// id) names the same payment.
std::string payment_id_of(std::string_view order_id);

}  // namespace detail

}  // namespace cqrs::gateway::order
