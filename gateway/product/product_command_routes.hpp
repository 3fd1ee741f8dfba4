#pragma once

// The Product command routes: the product's binding to the generic command routes
// (gateway/command_routes.hpp: headers, strict bodies, the cached path, answers) and how each
// request becomes its command. Every route is admin-only.
//
//   POST   /v1/products                               {sku, name, description, price, stock}  201
//   PATCH  /v1/products/{id}                          {name, description}                      200
//   PUT    /v1/products/{id}/price                    {price}                                  200
//   POST   /v1/products/{id}/restock                  {quantity}                               200
//   POST   /v1/products/{id}/reservations             {reservation_id, quantity}               200
//   DELETE /v1/products/{id}/reservations/{rid}                                                200
//   POST   /v1/products/{id}/reservations/{rid}/commit                                         200
//   POST   /v1/products/{id}/discontinue              {reason?}                                200
//
// price is {"amount": <integer minor units>, "currency": "EUR"}. PATCH takes both fields: a
// partial update would have to merge with state read before the command, which could race with
// another writer; sending both keeps the command exactly what the caller saw. The reason of
// discontinue may be left out (the aggregate accepts an empty one). Business rules (name length,
// currency, ...) stay with the aggregate, which answers them with its own stable code.

#include <string>
#include <string_view>

#include "commands/product/product_pipeline.hpp"
#include "gateway/command_routes.hpp"
#include "gateway/product/product_errors.hpp"

namespace cqrs::gateway {

class router;
struct request_context;

struct product_binding {
  using aggregate = commands::product::product_aggregate;
  static constexpr std::string_view noun = "product";
  static constexpr std::string_view collection = "/v1/products";
  static constexpr std::string_view id_purpose = "cqrs.product-id.v1";
  static error_mapping map_error(commands::product::errc code) { return gateway::map_error(code); }
  static std::string_view code_name(commands::product::errc code) { return commands::product::to_string(code); }
  static std::string_view field_of(commands::product::errc code) { return gateway::field_of(code); }
};

using product_command_dependencies = command_dependencies<product_binding>;

void add_product_command_routes(router& r, const product_command_dependencies& deps);

namespace detail {

using prepared_command = prepared<product_binding>;
using preparation = preparation_for<product_binding>;

preparation prepare_create(const request_context& ctx);
preparation prepare_update_details(const request_context& ctx);
preparation prepare_change_price(const request_context& ctx);
preparation prepare_restock(const request_context& ctx);
preparation prepare_reserve(const request_context& ctx);
preparation prepare_release(const request_context& ctx);
preparation prepare_commit(const request_context& ctx);
preparation prepare_discontinue(const request_context& ctx);

// The generic steps, for the product (command_routes.hpp).
step execute(worker_context& workers, const prepared_command& command);
step first_step(const product_command_dependencies& deps, prepared_command command);
http_response answer(const commands::product::product_outcome& outcome, const prepared_command& command);

// A product id derived from (subject, key): UUID-shaped (version 8) hex of a SHA-256.
std::string derived_product_id(std::string_view subject, std::string_view key);

}  // namespace detail

}  // namespace cqrs::gateway
