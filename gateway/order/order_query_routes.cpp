#include "gateway/order/order_query_routes.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "core/ids.hpp"
#include "gateway/command_support.hpp"
#include "gateway/consistency.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/json_fields.hpp"
#include "gateway/jwt.hpp"
#include "gateway/problem.hpp"
#include "gateway/read_model_lag.hpp"
#include "gateway/redis_async.hpp"
#include "gateway/request_target.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"
#include "projections/history.hpp"
#include "projections/order/order_projections.hpp"

namespace cqrs::gateway::order {

namespace {

namespace json = boost::json;
using projections::order::order_view;

constexpr const char* order_category = "order";
constexpr const char* detail_projection = "order_detail";
constexpr const char* payment_projection = "order_payment";
constexpr const char* list_projection = "order_list";
constexpr const char* list_payment_projection = "order_list_payment";

constexpr int default_page = 20;
constexpr int max_page = 100;

// What the read routes share; the router keeps it alive with its handlers.
struct order_reads {
  const gateway_config& config;
  const read_model_lag& lag;
  redis_lua_script script{std::string(projections::order::order_detail_read_for("").script)};
};
using reads_ptr = std::shared_ptr<const order_reads>;

// ---- answers -----------------------------------------------------------------------------------

json::object money_json(std::int64_t amount, const std::string& currency) {
  return {{"amount", amount}, {"currency", currency}};
}

json::object order_json(const order_view& v) {
  json::object payment{{"id", v.payment_id}};
  payment["status"] = v.payment_status ? json::value(*v.payment_status) : json::value(nullptr);
  return {{"id", v.order_id},
          {"customer_id", v.customer_id},
          {"lines", json::parse(v.lines_json)},
          {"total", money_json(v.total_minor, v.currency)},
          {"status", v.status},
          {"payment", std::move(payment)},
          {"created_at", v.created_at},
          {"updated_at", v.updated_at},
          {"version", v.version}};
}

http_response not_found(const std::string& id) {
  return problem_response(errc::resource_not_found, fmt::format("no order has the id {}", id));
}

http_response invalid(std::vector<field_error> errors) {
  return problem_response(errc::validation_failed, "the request has invalid parameters", std::move(errors));
}

bool is_staff(const principal& caller) { return caller.has_role("support") || caller.has_role("admin"); }

// Its customer, support and admins may read an order; to anyone else it does not exist.
http_response order_response(const order_view& v, const principal& caller) {
  if (v.customer_id != caller.subject && !is_staff(caller)) return not_found(v.order_id);
  auto response = json_response(200, order_json(v));
  response.set_header("ETag", fmt::format("\"{}\"", v.version));
  response.set_header("Cache-Control", "no-store");
  return response;
}

// ---- GET /v1/orders/{id} -----------------------------------------------------------------------

struct order_read {
  std::string id;
  principal caller;
  std::optional<stream_wait> wait;  // the order stream's version the answer must reach
};

// From the event store, on the PostgreSQL pool: every acknowledged event is in it.
step fold_step(const order_read& read) {
  return offload{pool_kind::postgres,
                 [read](worker_context& workers) -> step {
                   const auto view = projections::order::fold_order_view(workers.store(), read.id);
                   if (!view) return not_found(read.id);
                   return order_response(*view, read.caller);
                 },
                 std::chrono::milliseconds{0}};
}

redis_call redis_step(const order_read& read, const reads_ptr& reads) {
  auto call = projections::order::order_detail_read_for(read.id, detail_projection, payment_projection);
  return redis_call{&reads->script, std::move(call.keys), std::move(call.args),
                    [read, reads](redis_result result) -> step {
                      if (!result.ok() || result.reply->is_error()) return fold_step(read);
                      const auto view = projections::order::decode_order_detail(*result.reply);
                      if (!view) return fold_step(read);  // not projected yet, or flushed
                      if (read.wait && view->version < read.wait->version) {
                        return look_again(read.wait->wait, redis_step(read, reads));
                      }
                      auto response = order_response(*view, read.caller);
                      if (response.status == 200) reads->lag.mark(response, detail_projection);
                      return response;
                    },
                    {}};
}

step get_order(request_context& ctx, const reads_ptr& reads) {
  std::vector<field_error> errors;
  const auto id = path_param(ctx, "id");
  auto stream = stream_of(order_category, id);
  if (!stream) errors.push_back({"id", std::string(invalid_id_message)});
  const bool strong = wants_strong(ctx.request, errors);
  auto wait = read_causal_position(ctx.request, reads->config, errors);
  if (!errors.empty()) return invalid(std::move(errors));
  order_read read{id, *ctx.caller, std::nullopt};
  if (strong) return fold_step(read);
  if (!wait) return redis_step(read, reads);
  // One stream is read: only its own progress counts, whatever the rest of the log does.
  return at_stream_version(*wait, std::move(*stream), [read, reads](stream_wait resolved) mutable -> step {
    read.wait = std::move(resolved);
    return redis_step(read, reads);
  });
}

// ---- GET /v1/orders ----------------------------------------------------------------------------

int page_size(const http_request& request, std::vector<field_error>& errors) {
  const auto text = request.query_param("limit");
  if (!text) return default_page;
  int value = 0;
  const auto [end, failure] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (failure != std::errc{} || end != text->data() + text->size() || value < 1 || value > max_page) {
    errors.push_back({"limit", fmt::format("must be an integer from 1 to {}", max_page)});
    return default_page;
  }
  return value;
}

// The cursor is "<created_at> <order id>" of the previous page's last order, base64url: opaque to
// clients, so the paging key can change without breaking them.
std::optional<projections::order::order_list_cursor> read_cursor(const http_request& request,
                                                                 std::vector<field_error>& errors) {
  const auto text = request.query_param("cursor");
  if (!text) return std::nullopt;
  const auto decoded = gateway::detail::base64url_decode(*text);
  const auto space = decoded ? decoded->find(' ') : std::string::npos;
  if (space == std::string::npos || space == 0 || space + 1 == decoded->size() ||
      !projections::parse_timestamp(decoded->substr(0, space)) || !stream_of(order_category, decoded->substr(space + 1))) {
    errors.push_back({"cursor", "must be a next_cursor this API returned"});
    return std::nullopt;
  }
  return projections::order::order_list_cursor{decoded->substr(0, space), decoded->substr(space + 1)};
}

std::optional<std::string> read_status(const http_request& request, std::vector<field_error>& errors) {
  const auto text = request.query_param("status");
  if (!text) return std::nullopt;
  const auto& known = projections::order::order_statuses();
  if (std::find(known.begin(), known.end(), *text) == known.end()) {
    errors.push_back({"status", fmt::format("must be one of {}", fmt::join(known, ", "))});
  }
  return std::string(*text);
}

// A customer lists their own orders (customer_id, if given, must be theirs); support and admins
// list everyone's, or one customer's.
std::optional<std::string> read_customer(const request_context& ctx, std::vector<field_error>& errors) {
  const auto given = ctx.request.query_param("customer_id");
  if (is_staff(*ctx.caller)) return given ? std::optional<std::string>(std::string(*given)) : std::nullopt;
  if (given && *given != ctx.caller->subject) errors.push_back({"customer_id", "a customer lists only their own orders"});
  return ctx.caller->subject;
}

http_response list_page(std::vector<order_view> rows, int limit) {
  // One row more than the page was read: its presence says whether a next page exists.
  const bool more = rows.size() > static_cast<std::size_t>(limit);
  if (more) rows.resize(static_cast<std::size_t>(limit));
  json::array items;
  for (const auto& row : rows) items.push_back(order_json(row));
  json::value next = nullptr;
  if (more) next = gateway::detail::base64url_encode(rows.back().created_at + " " + rows.back().order_id);
  auto response = json_response(200, json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
  response.set_header("Cache-Control", "no-store");
  return response;
}

step list_step(const projections::order::order_list_query& query, const reads_ptr& reads) {
  return offload{pool_kind::postgres,
                 [query, reads](worker_context& workers) -> step {
                   auto page = query;
                   page.limit = query.limit + 1;
                   auto rows = read_only(workers, [&](pqxx::transaction_base& tx) {
                     return projections::order::query_order_list(tx, page);
                   });
                   auto response = list_page(std::move(rows), query.limit);
                   reads->lag.mark(response, list_projection);
                   return response;
                 },
                 std::chrono::milliseconds{0}};
}

step list_orders(request_context& ctx, const reads_ptr& reads) {
  std::vector<field_error> errors;
  projections::order::order_list_query query;
  query.customer_id = read_customer(ctx, errors);
  query.status = read_status(ctx.request, errors);
  query.after = read_cursor(ctx.request, errors);
  query.limit = page_size(ctx.request, errors);
  query.projection = list_projection;
  query.payment_projection = list_payment_projection;
  const auto wait = read_causal_position(ctx.request, reads->config, errors);
  if (!errors.empty()) return invalid(std::move(errors));
  // Both models must have applied the token: the orders and their payments' statuses.
  return after_position(wait, list_projection, [wait, query, reads]() -> step {
    return after_position(wait, list_payment_projection, [query, reads]() -> step { return list_step(query, reads); });
  });
}

}  // namespace

void add_order_query_routes(router& r, const domain_context& context) {
  const auto reads = std::make_shared<const order_reads>(order_reads{context.config, context.lag});
  const auto who = access_policy::any_of({"customer", "support", "admin"});
  r.add(route_spec{"GET", "/v1/orders/{id}", who, [reads](request_context& ctx) { return get_order(ctx, reads); }, false});
  r.add(route_spec{"GET", "/v1/orders", who, [reads](request_context& ctx) { return list_orders(ctx, reads); }, false});
}

}  // namespace cqrs::gateway::order
