#include "schemas/contracts/product/product_json.hpp"

#include <variant>

#include <boost/json/object.hpp>

namespace cqrs::schemas {

namespace json = boost::json;

namespace {

template <typename Contract>
json::object with_identity(const Contract& contract) {
  return json::object{{"type", Contract::type_name},
                      {"schema_version", Contract::schema_version},
                      {"data", json::value_from(contract)}};
}

json::value reservation_fields(const reservation_id& id, const quantity& q) {
  return json::object{{"reservation_id", json::value_from(id)}, {"quantity", json::value_from(q)}};
}

}  // namespace

void tag_invoke(json::value_from_tag, json::value& out, const money& m) {
  out = json::object{{"amount_minor", m.amount_minor}, {"currency", json::value_from(m.currency)}};
}

void tag_invoke(json::value_from_tag, json::value& out, const product_created& e) {
  out = json::object{{"sku", json::value_from(e.code)},       {"name", e.name},
                     {"description", e.description},           {"price", json::value_from(e.price)},
                     {"initial_stock", e.initial_stock}};
}

void tag_invoke(json::value_from_tag, json::value& out, const product_details_updated& e) {
  out = json::object{{"name", e.name}, {"description", e.description}};
}

void tag_invoke(json::value_from_tag, json::value& out, const product_price_changed& e) {
  out = json::object{{"price", json::value_from(e.price)}};
}

void tag_invoke(json::value_from_tag, json::value& out, const product_restocked& e) {
  out = json::object{{"quantity", json::value_from(e.added)}};
}

void tag_invoke(json::value_from_tag, json::value& out, const stock_reserved& e) {
  out = reservation_fields(e.reservation, e.reserved);
}

void tag_invoke(json::value_from_tag, json::value& out, const reservation_released& e) {
  out = reservation_fields(e.reservation, e.released);
}

void tag_invoke(json::value_from_tag, json::value& out, const reservation_committed& e) {
  out = reservation_fields(e.reservation, e.committed);
}

void tag_invoke(json::value_from_tag, json::value& out, const product_discontinued& e) {
  out = json::object{{"reason", e.reason}};
}

void tag_invoke(json::value_from_tag, json::value& out, const create_product& c) {
  out = json::object{{"sku", json::value_from(c.code)},       {"name", c.name},
                     {"description", c.description},           {"price", json::value_from(c.price)},
                     {"initial_stock", c.initial_stock}};
}

void tag_invoke(json::value_from_tag, json::value& out, const update_product_details& c) {
  out = json::object{{"name", c.name}, {"description", c.description}};
}

void tag_invoke(json::value_from_tag, json::value& out, const change_product_price& c) {
  out = json::object{{"price", json::value_from(c.price)}};
}

void tag_invoke(json::value_from_tag, json::value& out, const restock_product& c) {
  out = json::object{{"quantity", json::value_from(c.added)}};
}

void tag_invoke(json::value_from_tag, json::value& out, const reserve_stock& c) {
  out = reservation_fields(c.reservation, c.wanted);
}

void tag_invoke(json::value_from_tag, json::value& out, const release_reservation& c) {
  out = json::object{{"reservation_id", json::value_from(c.reservation)}};
}

void tag_invoke(json::value_from_tag, json::value& out, const commit_reservation& c) {
  out = json::object{{"reservation_id", json::value_from(c.reservation)}};
}

void tag_invoke(json::value_from_tag, json::value& out, const discontinue_product& c) {
  out = json::object{{"reason", c.reason}};
}

json::object to_json(const product_event& event) {
  return std::visit([](const auto& e) { return with_identity(e); }, event);
}

json::object to_json(const product_command& command) {
  return std::visit([](const auto& c) { return with_identity(c); }, command);
}

}  // namespace cqrs::schemas
