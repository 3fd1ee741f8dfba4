// Requests the gateway refuses: each answers the right 4xx as problem+json, names the field when
// there is one, and writes nothing.

#include <string>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "gateway/jwt.hpp"
#include "tests/e2e_gateway/gateway_fixture.hpp"

namespace cqrs::tests {

namespace {

// Checks the refusal's status, problem shape and code, and that the store did not grow.
void check_refused(const http_answer& answer, int status, const std::string& code, std::int64_t events_before) {
  INFO(describe(answer));
  CHECK(answer.status == status);
  CHECK(answer.is_problem());
  if (answer.is_problem()) {
    const auto body_json = answer.json();
    const auto& body = body_json.as_object();
    CHECK(body.at("status").to_number<int>() == status);
    CHECK(body.at("type").as_string() == "https://cqrs.dev/problems/" + code);
    CHECK(body.contains("title"));
    CHECK(problem_code(answer) == code);
  }
  CHECK(events_in_store() == events_before);
}

std::string jwt_part(const std::string& json) { return gateway::detail::base64url_encode(json); }

}  // namespace

TEST_CASE_FIXTURE(gateway_fixture, "malformed JSON answers 400 malformed_request and writes nothing") {
  const auto product = api.created("MALFORMED");
  const auto before = events_in_store();
  check_refused(api.command("POST", "/v1/products", std::string("{\"sku\": ")), 400, "malformed_request", before);
  check_refused(api.command("POST", "/v1/products/" + product.id + "/restock", std::string("[1, 2")), 400,
                "malformed_request", before);
  check_refused(api.command("POST", "/v1/products/" + product.id + "/restock", std::string("[1]")), 400,
                "malformed_request", before);
  CHECK(api.strong_version(product.id) == 1);
}

TEST_CASE_FIXTURE(gateway_fixture, "a member given twice answers 400 validation_failed naming it, and writes nothing") {
  const auto product = api.created("TWICE");
  const auto before = events_in_store();
  const auto restock =
      api.command("POST", "/v1/products/" + product.id + "/restock", std::string(R"({"quantity":1,"quantity":1000})"));
  check_refused(restock, 400, "validation_failed", before);
  CHECK(names_field(restock, "quantity"));
  const auto price = api.command("PUT", "/v1/products/" + product.id + "/price",
                                 std::string(R"({"price":{"amount":100,"currency":"EUR","amount":1}})"));
  check_refused(price, 400, "validation_failed", before);
  CHECK(names_field(price, "price.amount"));
  CHECK(api.strong_version(product.id) == 1);
}

TEST_CASE_FIXTURE(gateway_fixture, "fields of the wrong type answer 400 validation_failed naming each field") {
  const auto product = api.created("TYPES");
  const auto before = events_in_store();

  const auto restock = api.command("POST", "/v1/products/" + product.id + "/restock", std::string(R"({"quantity":"five"})"));
  check_refused(restock, 400, "validation_failed", before);
  CHECK(names_field(restock, "quantity"));

  const auto create = api.command(
      "POST", "/v1/products",
      fmt::format(R"({{"sku":"{}","name":5,"description":"","price":{{"amount":"ten","currency":"EUR"}},"stock":1}})",
                  unique_sku("TYPES")));
  check_refused(create, 400, "validation_failed", before);
  CHECK(names_field(create, "name"));
  CHECK(names_field(create, "price.amount"));

  const auto fractional = api.command("POST", "/v1/products/" + product.id + "/restock", std::string(R"({"quantity":1.5})"));
  check_refused(fractional, 400, "validation_failed", before);
  CHECK(names_field(fractional, "quantity"));
  CHECK(api.strong_version(product.id) == 1);
}

TEST_CASE_FIXTURE(gateway_fixture, "missing fields answer 400 validation_failed naming each field") {
  const auto product = api.created("MISSING");
  const auto before = events_in_store();

  const auto create = api.command("POST", "/v1/products", std::string("{}"));
  check_refused(create, 400, "validation_failed", before);
  CHECK(names_field(create, "sku"));
  CHECK(names_field(create, "name"));
  CHECK(names_field(create, "price"));

  const auto reserve = api.command("POST", "/v1/products/" + product.id + "/reservations", std::string(R"({"quantity":1})"));
  check_refused(reserve, 400, "validation_failed", before);
  CHECK(names_field(reserve, "reservation_id"));
  CHECK(api.strong_version(product.id) == 1);
}

TEST_CASE_FIXTURE(gateway_fixture, "a rule on a field (a bad currency) answers 400 naming the field") {
  const auto before = events_in_store();
  const auto answer = api.command(
      "POST", "/v1/products",
      fmt::format(R"({{"sku":"{}","name":"X","description":"","price":{{"amount":10,"currency":"euro"}},"stock":1}})",
                  unique_sku("CURRENCY")));
  INFO(describe(answer));
  CHECK(answer.status == 400);
  CHECK(answer.is_problem());
  CHECK(names_field(answer, "price.currency"));
  CHECK(events_in_store() == before);
}

TEST_CASE_FIXTURE(gateway_fixture, "a body that is not application/json answers 415 and writes nothing") {
  const auto product = api.created("MEDIA");
  const auto before = events_in_store();
  const auto answer = api.command("POST", "/v1/products/" + product.id + "/restock", std::string(R"({"quantity":1})"),
                                  {{"Content-Type", "text/plain"}});
  check_refused(answer, 415, "unsupported_media_type", before);
}

TEST_CASE_FIXTURE(gateway_fixture, "an oversized body answers 413 and writes nothing") {
  const auto product = api.created("BIG");
  const auto before = events_in_store();
  const std::string huge = R"({"quantity":1,"padding":")" + std::string(2 * 1024 * 1024, 'x') + "\"}";
  check_refused(api.command("POST", "/v1/products/" + product.id + "/restock", huge), 413, "payload_too_large", before);
  CHECK(api.strong_version(product.id) == 1);
}

TEST_CASE_FIXTURE(gateway_fixture, "an unknown route answers 404 and a wrong method 405") {
  const auto before = events_in_store();
  check_refused(http.get("/v1/nothing-here"), 404, "route_not_found", before);
  check_refused(api.command("POST", "/v1/products/abc/nothing", std::string("{}")), 404, "route_not_found", before);
  const auto wrong = api.command("DELETE", "/v1/products", std::nullopt);
  check_refused(wrong, 405, "method_not_allowed", before);
  CHECK(wrong.header("allow").has_value());
}

TEST_CASE_FIXTURE(gateway_fixture, "a command without a token answers 401 and writes nothing") {
  const auto before = events_in_store();
  const auto answer = http.post("/v1/products", create_body(unique_sku("NOTOKEN"), 1));
  check_refused(answer, 401, "unauthorized", before);
  CHECK(answer.header("www-authenticate").value_or("").starts_with("Bearer"));
}

TEST_CASE_FIXTURE(gateway_fixture, "a bad token answers 401: wrong signature, alg none, expired, not a JWT") {
  const auto before = events_in_store();
  const auto body = create_body(unique_sku("BADTOKEN"), 1);

  gateway::auth_config other;
  other.jwt_secret = "another-secret-entirely-0123456789";
  const auto foreign = gateway::jwt_verifier(other).sign({"mallory", {"admin"}, std::chrono::seconds(600)});
  check_refused(http.post("/v1/products", body, bearer(foreign)), 401, "unauthorized", before);

  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto claims = fmt::format(R"({{"sub":"mallory","roles":["admin"],"iss":"cqrs-engine","aud":"cqrs-api","iat":{},"exp":{}}})",
                                  now, now + 600);
  const auto alg_none = jwt_part(R"({"alg":"none","typ":"JWT"})") + "." + jwt_part(claims) + ".";
  check_refused(http.post("/v1/products", body, bearer(alg_none)), 401, "unauthorized", before);

  // A valid HS256 token with its header swapped for alg none, the signature kept.
  const auto good = engine.admin_token();
  const auto swapped = jwt_part(R"({"alg":"none","typ":"JWT"})") + good.substr(good.find('.'));
  check_refused(http.post("/v1/products", body, bearer(swapped)), 401, "unauthorized", before);

  const auto expired = engine.token("alice", {"admin"}, std::chrono::seconds(-3600));
  check_refused(http.post("/v1/products", body, bearer(expired)), 401, "unauthorized", before);

  check_refused(http.post("/v1/products", body, bearer("not-a-jwt")), 401, "unauthorized", before);
  check_refused(http.post("/v1/products", body, {{"Authorization", "Basic YWxpY2U6c2VjcmV0"}}), 401, "unauthorized", before);

  SUBCASE("a bad token is refused on a public query too") {
    const auto product = api.created("PUBLIC");
    check_refused(http.get("/v1/products/" + product.id, bearer(foreign)), 401, "unauthorized", before + 1);
  }
}

TEST_CASE_FIXTURE(gateway_fixture, "a token without role admin answers 403 on commands and history, and reads still work") {
  const auto product = api.created("VIEWER");
  const auto before = events_in_store();
  const auto viewer = engine.token("bob", {"viewer"});
  check_refused(http.post("/v1/products/" + product.id + "/restock", R"({"quantity":1})", bearer(viewer)), 403,
                "forbidden", before);
  check_refused(http.get("/v1/streams/product-" + product.id + "/events", bearer(viewer)), 403, "forbidden", before);
  const auto read = http.get("/v1/products/" + product.id + "?min_position=" + product.position, bearer(viewer));
  INFO(describe(read));
  CHECK(read.status == 200);
}

TEST_CASE_FIXTURE(gateway_fixture, "bad query parameters answer 400 naming the parameter") {
  const auto product = api.created("QUERY");
  const auto bad_position = api.read(product.id, "min_position=not-a-position");
  INFO(describe(bad_position));
  CHECK(bad_position.status == 400);
  CHECK(names_field(bad_position, "min_position"));
  const auto bad_consistency = api.read(product.id, "consistency=sometimes");
  INFO(describe(bad_consistency));
  CHECK(bad_consistency.status == 400);
  CHECK(names_field(bad_consistency, "consistency"));
  const auto bad_limit = http.get("/v1/products?limit=zero");
  INFO(describe(bad_limit));
  CHECK(bad_limit.status == 400);
  CHECK(names_field(bad_limit, "limit"));
}

}  // namespace cqrs::tests
