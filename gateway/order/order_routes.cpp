#include "gateway/order/order_routes.hpp"

#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "commands/payment/payment_pipeline.hpp"
#include "commands/product/batch_reservation.hpp"
#include "core/log.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"
#include "projections/order/order_projections.hpp"

namespace cqrs::gateway::order {

namespace {

namespace json = boost::json;
using detail::prepared_order;

constexpr std::string_view payment_id_purpose = "cqrs.order-payment-id.v1";
constexpr std::string_view refund_id_purpose = "cqrs.order-refund-id.v1";

// ---- POST /v1/orders ---------------------------------------------------------------------------

schemas::place_order& place_of(prepared_order& command) {
  return std::get<schemas::place_order>(command.envelope.command);
}

// Each line's unit price from its product's stream as stored (commands/product/batch_reservation,
// current_products); every unknown product answers 400 naming its line.
std::optional<http_response> fix_prices(worker_context& workers, schemas::place_order& place) {
  std::vector<schemas::product_id> ids;
  for (const auto& line : place.lines) ids.push_back(line.product);
  const auto facts = commands::product::current_products(workers.store(), ids);
  std::vector<field_error> errors;
  for (std::size_t i = 0; i < place.lines.size(); ++i) {
    if (!facts[i].exists) {
      errors.push_back({fmt::format("lines[{}].product_id", i), "no product has this id"});
      continue;
    }
    place.lines[i].unit_price = facts[i].price;
  }
  if (errors.empty()) return std::nullopt;
  return problem_response(errc::validation_failed, "the order names unknown products", std::move(errors));
}

// An accepted placement is 202: the order exists, the process fulfilling it goes on.
step accepted_later(http_response answer) {
  if (answer.status == 201) answer.status = 202;
  return answer;
}

// The order's total: its lines at the prices fixed (one currency, the aggregate's rule).
schemas::money total_of(const schemas::place_order& place) {
  schemas::money total{0, place.lines.empty() ? schemas::currency_code{} : place.lines.front().unit_price.currency};
  for (const auto& line : place.lines) total.amount_minor += line.unit_price.amount_minor * line.units.value();
  return total;
}

// payment.request {order_id, total, card_token} on payment-<payment_id>, right after the order
// was accepted (the card token travels in the payment's stream only). Its idempotency key is
// derived from the order's (or from the order's id without one), so a retried POST with the same
// Idempotency-Key, which replays the accepted placement, sends it again and completes it at most
// once. PostgreSQL failing here throws to execute_then, which answers 503 with Retry-After: the
// client's retry with its key then sends the request, where a 202 would have left the order to
// expire unpaid.
void request_payment(worker_context& workers, const prepared_order& command) {
  const auto& place = std::get<schemas::place_order>(command.envelope.command);
  const auto stream = stream_of(commands::payment::payment_aggregate::category, place.payment.value());
  auto context = command.envelope.context;
  context.idempotency_key = gateway::detail::scoped_idempotency_key(
      "order-payment-request", context.idempotency_key.value_or("order-" + command.id));
  context.if_match.reset();
  const commands::command_envelope<commands::payment::payment_aggregate::command_type> request{
      *stream, schemas::request_payment{schemas::order_id(command.id), total_of(place), place.card}, std::move(context)};
  const auto outcome = workers.pipeline<commands::payment::payment_aggregate>().handle(request);
  if (!std::holds_alternative<commands::accepted>(outcome)) {
    core::logger("cqrs-gateway").warn("the order's payment request was not accepted",
                                      {{"order_id", command.id}, {"payment_id", place.payment.value()}});
  }
}

step place(request_context& ctx) {
  auto made = detail::prepare_place(ctx);
  if (auto* refused = std::get_if<http_response>(&made)) return std::move(*refused);
  return offload{pool_kind::postgres,
                 [command = std::move(std::get<prepared_order>(made))](worker_context& workers) mutable -> step {
                   if (auto refused = fix_prices(workers, place_of(command))) return std::move(*refused);
                   return execute_then<order_binding>(workers, command, [&](const auto& outcome, http_response answer) {
                     if (std::holds_alternative<commands::accepted>(outcome)) request_payment(workers, command);
                     return accepted_later(std::move(answer));
                   });
                 },
                 std::chrono::milliseconds{0}};
}

// ---- POST /v1/orders/{id}/cancel ---------------------------------------------------------------

bool is_admin(const request_context& ctx) { return ctx.caller && ctx.caller->has_role("admin"); }

// A customer may cancel their own order only; anyone else's reads as unknown (404), as on GET.
step cancel(request_context& ctx) {
  auto made = detail::prepare_cancel(ctx);
  if (auto* refused = std::get_if<http_response>(&made)) return std::move(*refused);
  const bool admin = is_admin(ctx);
  return offload{pool_kind::postgres,
                 [command = std::move(std::get<prepared_order>(made)), admin,
                  subject = ctx.caller->subject](worker_context& workers) -> step {
                   if (!admin) {
                     const auto order = projections::order::fold_order_view(workers.store(), command.id);
                     if (!order || order->customer_id != subject) {
                       return problem_response(errc::resource_not_found, fmt::format("no order has the id {}", command.id));
                     }
                   }
                   return execute<order_binding>(workers, command);
                 },
                 std::chrono::milliseconds{0}};
}

// ---- POST /v1/orders/{id}/refunds --------------------------------------------------------------

step refund(request_context& ctx) {
  auto made = detail::prepare_refund(ctx);
  if (auto* refused = std::get_if<http_response>(&made)) return std::move(*refused);
  auto& command = std::get<prepared_order>(made);
  const auto refund = std::get<schemas::request_order_refund>(command.envelope.command).refund.value();
  return offload{pool_kind::postgres,
                 [command = std::move(command), refund](worker_context& workers) -> step {
                   return execute_then<order_binding>(workers, command, [&](const auto&, http_response answer) -> step {
                     if (answer.status != 200) return answer;
                     auto body = json::parse(answer.body).as_object();
                     body["refund_id"] = refund;
                     auto later = json_response(202, body);
                     for (const auto& header : answer.headers) {
                       if (header.first != "Content-Type") later.set_header(header.first, header.second);
                     }
                     return later;
                   });
                 },
                 std::chrono::milliseconds{0}};
}

detail::order_preparation prepare_ship(const request_context& ctx) {
  return prepare_command<order_binding>(ctx, {.has_body = false, .creates = false, .aliases = {}}, [](json_fields&, const request_context&) {
    return schemas::order_command{schemas::ship_order{}};
  });
}

detail::order_preparation prepare_deliver(const request_context& ctx) {
  return prepare_command<order_binding>(ctx, {.has_body = false, .creates = false, .aliases = {}}, [](json_fields&, const request_context&) {
    return schemas::order_command{schemas::deliver_order{}};
  });
}

}  // namespace

namespace detail {

std::string payment_id_of(std::string_view order_id) { return gateway::detail::derived_id(payment_id_purpose, "order", order_id); }

order_preparation prepare_place(const request_context& ctx) {
  auto made = prepare_command<order_binding>(ctx, {.has_body = true, .creates = true, .aliases = {}}, [](json_fields& body, const request_context& c) {
    schemas::place_order p;
    p.customer = schemas::customer_id(c.caller->subject);
    p.lines = body.objects("lines", max_order_lines, [](json_fields& line) {
      auto product = schemas::product_id(line.text("product_id"));
      return schemas::order_line{std::move(product), schemas::quantity(line.integer("quantity")), {}};
    });
    p.address = body.object("shipping_address", [](json_fields& a) {
                      auto line1 = a.text("line1");
                      auto city = a.text("city");
                      auto postal_code = a.text("postal_code");
                      return schemas::shipping_address{std::move(line1), std::move(city), std::move(postal_code),
                                                       a.text("country")};
                    }).value_or(schemas::shipping_address{});
    p.card = schemas::card_token(body.object("payment", [](json_fields& pay) { return pay.text("card_token"); })
                                     .value_or(std::string()));
    return schemas::order_command{std::move(p)};
  });
  if (auto* command = std::get_if<prepared_order>(&made)) {
    place_of(*command).payment = schemas::payment_id(payment_id_of(command->id));
  }
  return made;
}

order_preparation prepare_cancel(const request_context& ctx) {
  const std::string by(is_admin(ctx) ? schemas::cancelled_by::admin : schemas::cancelled_by::customer);
  return prepare_command<order_binding>(ctx, {.has_body = false, .creates = false, .aliases = {}}, [&by](json_fields&, const request_context&) {
    return schemas::order_command{schemas::cancel_order{by}};
  });
}

order_preparation prepare_refund(const request_context& ctx) {
  return prepare_command<order_binding>(ctx, {.has_body = true, .creates = false, .aliases = {{"refund_id", "Idempotency-Key"}}},
                                        [](json_fields& body, const request_context& c) {
    // A refund's id, like a created order's: derived from the caller and the Idempotency-Key, so
    // a retried request asks for the same refund; random without one.
    std::vector<field_error> ignored;  // the headers' own errors are prepare_command's
    const auto headers = read_command_headers(c.request, ignored);
    auto refund = schemas::refund_id(create_target_id(c, headers, refund_id_purpose));
    return schemas::order_command{schemas::request_order_refund{std::move(refund), body.money("amount")}};
  });
}

}  // namespace detail

void add_order_command_routes(router& r, const domain_context& context) {
  const command_dependencies<order_binding> deps{context.caches.find<order_binding::aggregate>(), context.pipeline};
  const auto admin = access_policy::any_of({"admin"});
  r.add(route_spec{"POST", "/v1/orders", access_policy::any_of({"customer"}), place, true});
  r.add(route_spec{"POST", "/v1/orders/{id}/cancel", access_policy::any_of({"customer", "admin"}), cancel, false});
  r.add(route_spec{"POST", "/v1/orders/{id}/refunds", admin, refund, true});
  add_command_routes<order_binding>(r, deps,
                                    {
                                        {"POST", "/v1/orders/{id}/ship", admin, false, prepare_ship},
                                        {"POST", "/v1/orders/{id}/deliver", admin, false, prepare_deliver},
                                    });
}

}  // namespace cqrs::gateway::order
