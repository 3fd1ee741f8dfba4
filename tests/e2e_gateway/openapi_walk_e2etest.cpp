// Walks docs/openapi.yaml: every path and method gets a real request (path parameters from a
// product made for it, query parameters from their examples or defaults, the body from the
// document's example, a token when the operation is secured) and must answer one of its documented statuses, with a documented content type, and
// a 2xx body that has what its schema requires. Secured operations must also answer 401 without
// a token. A route added to the gateway without its document, or documented wrongly, fails here.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <utility>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/e2e_gateway/gateway_fixture.hpp"

namespace cqrs::tests {

namespace {

const YAML::Node& document() {
  static const YAML::Node doc = YAML::LoadFile(CQRS_OPENAPI_PATH);
  return doc;
}

// Follows "$ref": "#/components/..." until a node that is not a reference. Nodes are rebound
// with reset(), never assigned: yaml-cpp's assignment writes through to the document.
YAML::Node resolve(const YAML::Node& start_node) {
  YAML::Node node;
  node.reset(start_node);
  for (int depth = 0; depth < 10 && node.IsMap() && std::as_const(node)["$ref"]; ++depth) {
    const auto ref = std::as_const(node)["$ref"].as<std::string>();
    REQUIRE_MESSAGE(ref.rfind("#/", 0) == 0, "only local references: " << ref);
    YAML::Node target;
    target.reset(document());
    std::size_t start = 2;
    while (start <= ref.size()) {
      const auto end = std::min(ref.find('/', start), ref.size());
      const YAML::Node& parent = target;
      const YAML::Node child = parent[ref.substr(start, end - start)];
      REQUIRE_MESSAGE(child.IsDefined(), "unresolved reference " << ref);
      target.reset(child);
      start = end + 1;
    }
    node.reset(target);
  }
  return node;
}

// A YAML example as JSON: plain scalars that read as numbers or booleans become those.
boost::json::value to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    boost::json::object object;
    for (const auto& entry : node) object[entry.first.as<std::string>()] = to_json(entry.second);
    return object;
  }
  if (node.IsSequence()) {
    boost::json::array array;
    for (const auto& item : node) array.push_back(to_json(item));
    return array;
  }
  if (node.IsNull()) return nullptr;
  const auto text = node.as<std::string>();
  if (node.Tag() == "?") {
    if (text == "true" || text == "false") return text == "true";
    std::int64_t integer = 0;
    if (YAML::convert<std::int64_t>::decode(node, integer)) return integer;
    double real = 0;
    if (YAML::convert<double>::decode(node, real)) return real;
  }
  return boost::json::value(text);
}

// What of `schema` the value lacks or gets wrong (types, required members), by JSON path.
void schema_mismatches(const YAML::Node& schema_ref, const boost::json::value& value, const std::string& path,
                       std::vector<std::string>& out) {
  const auto schema = resolve(schema_ref);
  if (value.is_null()) {
    if (!(schema["nullable"] && schema["nullable"].as<bool>())) out.push_back(path + ": null");
    return;
  }
  const auto type = schema["type"] ? schema["type"].as<std::string>() : std::string{};
  if (type == "object") {
    if (!value.is_object()) return out.push_back(path + ": not an object");
    const auto& object = value.as_object();
    for (const auto& name : schema["required"]) {
      if (!object.contains(name.as<std::string>())) out.push_back(path + "." + name.as<std::string>() + ": missing");
    }
    for (const auto& property : schema["properties"]) {
      const auto name = property.first.as<std::string>();
      if (const auto* member = object.if_contains(name)) schema_mismatches(property.second, *member, path + "." + name, out);
    }
  } else if (type == "array") {
    if (!value.is_array()) return out.push_back(path + ": not an array");
    std::size_t i = 0;
    for (const auto& item : value.as_array()) schema_mismatches(schema["items"], item, fmt::format("{}[{}]", path, i++), out);
  } else if (type == "integer") {
    if (!value.is_int64() && !value.is_uint64()) out.push_back(path + ": not an integer");
  } else if (type == "string") {
    if (!value.is_string()) out.push_back(path + ": not a string");
  } else if (type == "boolean") {
    if (!value.is_bool()) out.push_back(path + ": not a boolean");
  }
}

bool needs_token(const YAML::Node& operation) {
  const auto security = operation["security"] ? operation["security"] : document()["security"];
  if (!security || security.size() == 0) return false;
  for (const auto& alternative : security) {
    if (alternative.size() == 0) return false;  // `{}`: anonymous is allowed
  }
  return true;
}

std::string fill_path(std::string path, const std::string& id, const std::string& rid) {
  const auto replace = [&](const std::string& name, const std::string& value) {
    for (auto at = path.find(name); at != std::string::npos; at = path.find(name)) path.replace(at, name.size(), value);
  };
  replace("{id}", id);
  replace("{rid}", rid);
  replace("{stream}", "product-" + id);
  return path;
}

// The query string of every query parameter that documents an example or a default, so each
// documented parameter is sent at least once.
std::string example_query(const YAML::Node& path_item, const YAML::Node& operation) {
  std::string query;
  for (const auto* list : {&path_item, &operation}) {
    for (const auto& entry : (*list)["parameters"]) {
      const auto parameter = resolve(entry);
      if (parameter["in"].as<std::string>() != "query") continue;
      const auto schema = resolve(parameter["schema"]);
      const auto value = parameter["example"] ? parameter["example"] : schema["default"];
      if (!value) continue;
      query += fmt::format("{}{}={}", query.empty() ? "?" : "&", parameter["name"].as<std::string>(),
                           url_encode(value.as<std::string>()));
    }
  }
  return query;
}

std::optional<std::string> example_body(const YAML::Node& operation) {
  if (!operation["requestBody"]) return std::nullopt;
  const auto body = resolve(operation["requestBody"]);
  const auto media = body["content"]["application/json"];
  REQUIRE_MESSAGE(media, "a request body without application/json");
  auto example = media["example"] ? to_json(media["example"]) : boost::json::value(boost::json::object{});
  // A created product's SKU must be new, or the walk would only ever see 409.
  if (auto* sku = example.as_object().if_contains("sku")) *sku = unique_sku("WALK");
  return boost::json::serialize(example);
}

// The documented response for a status (or `default`); an undefined node when there is none.
YAML::Node documented(const YAML::Node& operation, int status) {
  const auto responses = operation["responses"];
  if (responses[std::to_string(status)]) return resolve(responses[std::to_string(status)]);
  if (responses["default"]) return resolve(responses["default"]);
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string media_type(const http_answer& answer) {
  const auto type = answer.header("content-type").value_or("");
  return type.substr(0, type.find(';'));
}

struct walked_operation {
  std::string method;  // upper case
  std::string path;    // as documented
  YAML::Node path_item;
  YAML::Node operation;
};

std::vector<walked_operation> operations() {
  std::vector<walked_operation> all;
  for (const auto& path : document()["paths"]) {
    for (const auto& entry : path.second) {
      auto method = entry.first.as<std::string>();
      if (method == "parameters" || method.rfind("x-", 0) == 0) continue;
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      all.push_back({method, path.first.as<std::string>(), path.second, entry.second});
    }
  }
  return all;
}

void check_answer(const walked_operation& op, const http_answer& answer) {
  INFO(op.method << " " << op.path << " answered:\n" << describe(answer));
  const auto response = documented(op.operation, answer.status);
  REQUIRE_MESSAGE(response.IsDefined(), "status " << answer.status << " is not documented");
  CHECK(answer.status != 500);
  if (!response["content"]) return;
  const auto content = response["content"][media_type(answer)];
  REQUIRE_MESSAGE(content, "content type '" << media_type(answer) << "' is not documented for " << answer.status);
  if (content["schema"] && media_type(answer).find("json") != std::string::npos) {
    std::vector<std::string> mismatches;
    schema_mismatches(content["schema"], answer.json(), "$", mismatches);
    CHECK_MESSAGE(mismatches.empty(), "the body differs from its schema: " << fmt::format("{}", fmt::join(mismatches, "; ")));
  }
}

}  // namespace

TEST_CASE("docs/openapi.yaml is OpenAPI 3 and documents every route of the gateway") {
  CHECK(document()["openapi"].as<std::string>().rfind("3.", 0) == 0);
  std::vector<std::string> routes;
  for (const auto& op : operations()) routes.push_back(op.method + " " + op.path);
  const std::vector<std::string> expected{
      "POST /v1/products",
      "GET /v1/products",
      "GET /v1/products/{id}",
      "PATCH /v1/products/{id}",
      "PUT /v1/products/{id}/price",
      "POST /v1/products/{id}/restock",
      "POST /v1/products/{id}/reservations",
      "DELETE /v1/products/{id}/reservations/{rid}",
      "POST /v1/products/{id}/reservations/{rid}/commit",
      "POST /v1/products/{id}/discontinue",
      "POST /v1/users",
      "GET /v1/users/me",
      "PATCH /v1/users/me",
      "DELETE /v1/users/me",
      "PUT /v1/users/me/password",
      "PUT /v1/users/me/email",
      "POST /v1/users/lookup",
      "GET /v1/users/{id}",
      "DELETE /v1/users/{id}",
      "PUT /v1/users/{id}/roles",
      "POST /v1/users/{id}/deactivate",
      "POST /v1/users/{id}/reactivate",
      "POST /v1/auth/login",
      "POST /v1/auth/refresh",
      "POST /v1/auth/logout",
      "POST /v1/orders",
      "GET /v1/orders",
      "GET /v1/orders/{id}",
      "POST /v1/orders/{id}/cancel",
      "POST /v1/orders/{id}/ship",
      "POST /v1/orders/{id}/deliver",
      "POST /v1/orders/{id}/refunds",
      "GET /v1/payments/{id}",
      "POST /v1/payments/provider-events",
      "GET /v1/streams/{stream}/events",
      "GET /healthz",
      "GET /readyz",
      "GET /metrics",
  };
  CHECK(routes == expected);
}

TEST_CASE_FIXTURE(gateway_fixture, "every documented operation answers a real request with a documented status") {
  for (const auto& op : operations()) {
    // A product of its own, with an open reservation, for each operation.
    const auto product = api.created("WALK", 10);
    const std::string rid = "walk-" + run_id();
    REQUIRE(api.reserve(product.id, rid, 1).status == 200);

    const auto target = fill_path(op.path, product.id, rid) + example_query(op.path_item, op.operation);
    http_call call{op.method, target, {}, example_body(op.operation), std::nullopt};
    if (needs_token(op.operation)) {
      const auto anonymous = http.send(call);
      INFO(op.method << " " << op.path << " without a token answered:\n" << describe(anonymous));
      CHECK(anonymous.status == 401);
      check_answer(op, anonymous);
      call.headers = bearer(engine.admin_token());
    }
    check_answer(op, http.send(call));
  }
}

}  // namespace cqrs::tests
