#include "gateway/product/product_command_routes.hpp"

#include <utility>

#include "gateway/router.hpp"

namespace cqrs::gateway {

namespace {

using detail::preparation;

schemas::reservation_id reservation_of_path(const request_context& ctx) {
  return schemas::reservation_id(path_param(ctx, "rid"));
}

// The reservation id of release and commit comes from the path.
const command_shape reservation_in_path{.has_body = false, .aliases = {{"reservation_id", "rid"}}};

}  // namespace

namespace detail {

std::string derived_product_id(std::string_view subject, std::string_view key) {
  return derived_id(product_binding::id_purpose, subject, key);
}

preparation prepare_create(const request_context& ctx) {
  // The aggregate's quantity is the request's initial "stock" here.
  const command_shape shape{.creates = true, .aliases = {{"quantity", "stock"}}};
  return prepare_command<product_binding>(ctx, shape, [](json_fields& body, const request_context&) {
    schemas::create_product c;
    c.code = schemas::sku(body.text("sku"));
    c.name = body.text("name");
    c.description = body.text("description");
    c.price = body.money("price");
    c.initial_stock = body.integer("stock");
    return schemas::product_command{std::move(c)};
  });
}

preparation prepare_update_details(const request_context& ctx) {
  return prepare_command<product_binding>(ctx, {}, [](json_fields& body, const request_context&) {
    auto name = body.text("name");
    return schemas::product_command{schemas::update_product_details{std::move(name), body.text("description")}};
  });
}

preparation prepare_change_price(const request_context& ctx) {
  return prepare_command<product_binding>(ctx, {}, [](json_fields& body, const request_context&) {
    return schemas::product_command{schemas::change_product_price{body.money("price")}};
  });
}

preparation prepare_restock(const request_context& ctx) {
  return prepare_command<product_binding>(ctx, {}, [](json_fields& body, const request_context&) {
    return schemas::product_command{schemas::restock_product{schemas::quantity(body.integer("quantity"))}};
  });
}

preparation prepare_reserve(const request_context& ctx) {
  return prepare_command<product_binding>(ctx, {}, [](json_fields& body, const request_context&) {
    auto id = schemas::reservation_id(body.text("reservation_id"));
    return schemas::product_command{schemas::reserve_stock{std::move(id), schemas::quantity(body.integer("quantity"))}};
  });
}

preparation prepare_release(const request_context& ctx) {
  return prepare_command<product_binding>(ctx, reservation_in_path, [](json_fields&, const request_context& c) {
    return schemas::product_command{schemas::release_reservation{reservation_of_path(c)}};
  });
}

preparation prepare_commit(const request_context& ctx) {
  return prepare_command<product_binding>(ctx, reservation_in_path, [](json_fields&, const request_context& c) {
    return schemas::product_command{schemas::commit_reservation{reservation_of_path(c)}};
  });
}

preparation prepare_discontinue(const request_context& ctx) {
  return prepare_command<product_binding>(ctx, {}, [](json_fields& body, const request_context&) {
    return schemas::product_command{schemas::discontinue_product{body.optional_text("reason").value_or("")}};
  });
}

step execute(worker_context& workers, const prepared_command& command) {
  return gateway::execute<product_binding>(workers, command);
}

step first_step(const product_command_dependencies& deps, prepared_command command) {
  return gateway::first_step<product_binding>(deps, std::move(command));
}

http_response answer(const commands::product::product_outcome& outcome, const prepared_command& command) {
  return gateway::answer<product_binding>(outcome, command);
}

}  // namespace detail

void add_product_command_routes(router& r, const product_command_dependencies& deps) {
  const auto admin = access_policy::any_of({"admin"});
  add_command_routes<product_binding>(
      r, deps,
      {
          {"POST", "/v1/products", admin, true, detail::prepare_create},
          {"PATCH", "/v1/products/{id}", admin, true, detail::prepare_update_details},
          {"PUT", "/v1/products/{id}/price", admin, true, detail::prepare_change_price},
          {"POST", "/v1/products/{id}/restock", admin, true, detail::prepare_restock},
          {"POST", "/v1/products/{id}/reservations", admin, true, detail::prepare_reserve},
          {"DELETE", "/v1/products/{id}/reservations/{rid}", admin, false, detail::prepare_release},
          {"POST", "/v1/products/{id}/reservations/{rid}/commit", admin, false, detail::prepare_commit},
          {"POST", "/v1/products/{id}/discontinue", admin, true, detail::prepare_discontinue},
      });
}

}  // namespace cqrs::gateway
