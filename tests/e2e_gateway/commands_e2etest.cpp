// Product commands over real HTTP: answers, read-your-writes, If-Match, idempotency.

#include <regex>
#include <string>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/e2e_gateway/gateway_fixture.hpp"

namespace cqrs::tests {

namespace {

bool is_position(const std::string& token) { return std::regex_match(token, std::regex("[0-9a-f]{32}")); }

}  // namespace

TEST_CASE_FIXTURE(gateway_fixture, "creating a product answers 201 with its id, version 1, Location, ETag and X-Position") {
  const auto answer = api.create(unique_sku("CREATE"), 10);
  INFO(describe(answer));
  REQUIRE(answer.status == 201);
  const auto result = result_of(answer);
  CHECK(!result.id.empty());
  CHECK(result.version == 1);
  CHECK(is_position(result.position));
  CHECK(answer.header("location").value_or("").ends_with("/v1/products/" + result.id));
  CHECK(etag_version(answer.header("etag").value_or("")) == "1");
  CHECK(answer.header("x-position") == result.position);
  CHECK(answer.header("x-request-id").has_value());
  CHECK(answer.header("content-type").value_or("").starts_with("application/json"));
}

TEST_CASE_FIXTURE(gateway_fixture, "a reservation is visible at once to a read with min_position from its answer") {
  const auto product = api.created("RYW", 10);
  const auto reserved = api.reserve(product.id, "order-1", 3);
  INFO(describe(reserved));
  REQUIRE(reserved.status == 200);
  const auto result = result_of(reserved);
  CHECK(result.version == 2);
  CHECK(reserved.header("x-position") == result.position);
  CHECK(result.position > product.position);

  const auto read = api.read(product.id, "min_position=" + result.position);
  INFO(describe(read));
  REQUIRE(read.status == 200);
  const auto body_json = read.json();
  const auto& body = body_json.as_object();
  CHECK(body.at("id").as_string() == product.id);
  CHECK(body.at("stock_reserved").to_number<std::int64_t>() == 3);
  CHECK(body.at("stock_available").to_number<std::int64_t>() == 7);
  CHECK(body.at("version").to_number<std::int64_t>() == 2);

  SUBCASE("the X-Min-Position header works like the query parameter") {
    const auto by_header = http.get("/v1/products/" + product.id, {{"X-Min-Position", result.position}});
    INFO(describe(by_header));
    CHECK(by_header.status == 200);
  }
}

TEST_CASE_FIXTURE(gateway_fixture, "a command with a stale If-Match answers 412 and writes nothing") {
  const auto product = api.created("IFMATCH", 10);
  const auto restocked = api.restock(product.id, 5, {{"If-Match", "\"1\""}});
  INFO(describe(restocked));
  REQUIRE(restocked.status == 200);
  CHECK(etag_version(restocked.header("etag").value_or("")) == "2");

  const auto before = events_in_store();
  const auto stale = api.restock(product.id, 5, {{"If-Match", "\"1\""}});
  INFO(describe(stale));
  CHECK(stale.status == 412);
  CHECK(stale.is_problem());
  CHECK(problem_code(stale) == "command.version_conflict");
  CHECK(events_in_store() == before);
  CHECK(api.strong_version(product.id) == 2);
}

TEST_CASE_FIXTURE(gateway_fixture, "a retry with the same Idempotency-Key gets the same answer and writes one event") {
  const auto product = api.created("IDEM", 10);
  const http_headers key{{"Idempotency-Key", "restock-" + unique_sku("key")}};
  const auto first = api.restock(product.id, 4, key);
  const auto second = api.restock(product.id, 4, key);
  INFO(describe(first));
  INFO(describe(second));
  REQUIRE(first.status == 200);
  CHECK(second.status == 200);
  CHECK(second.json() == first.json());
  CHECK(second.header("etag") == first.header("etag"));
  CHECK(second.header("x-position") == first.header("x-position"));
  CHECK(second.header("idempotent-replayed") == "true");
  CHECK(api.stored_events(product.id) == 2);  // product.created, product.restocked

  SUBCASE("the same key with a different command is refused") {
    const auto other = api.restock(product.id, 9, key);
    INFO(describe(other));
    CHECK(other.status == 422);
    CHECK(problem_code(other) == "command.idempotency_key_reused");
    CHECK(api.stored_events(product.id) == 2);
  }
}

TEST_CASE_FIXTURE(gateway_fixture, "reserving more than is available answers 422 insufficient_stock and writes nothing") {
  const auto product = api.created("SHORT", 2);
  const auto before = events_in_store();
  const auto answer = api.reserve(product.id, "big", 3);
  INFO(describe(answer));
  CHECK(answer.status == 422);
  CHECK(answer.is_problem());
  CHECK(problem_code(answer) == "product.insufficient_stock");
  CHECK(events_in_store() == before);
}

TEST_CASE_FIXTURE(gateway_fixture, "a refused command's retry with its Idempotency-Key gets the same 422, even after a restock") {
  const auto product = api.created("IDEMNO", 1);
  const http_headers key{{"Idempotency-Key", "reserve-" + unique_sku("key")}};
  const auto first = api.reserve(product.id, "big", 3, key);
  INFO(describe(first));
  REQUIRE(first.status == 422);
  CHECK_FALSE(first.header("idempotent-replayed").has_value());
  REQUIRE(api.restock(product.id, 10).status == 200);

  const auto second = api.reserve(product.id, "big", 3, key);
  INFO(describe(second));
  CHECK(second.status == 422);
  CHECK(problem_code(second) == "product.insufficient_stock");
  CHECK(second.header("idempotent-replayed") == "true");
  CHECK(api.stored_events(product.id) == 2);  // product.created, product.restocked: no reservation
}

TEST_CASE_FIXTURE(gateway_fixture, "a command on an unknown product answers 404") {
  const auto answer = api.restock("no-such-product-" + run_id(), 1);
  INFO(describe(answer));
  CHECK(answer.status == 404);
  CHECK(answer.is_problem());
}

TEST_CASE_FIXTURE(gateway_fixture, "a reservation runs its whole life: reserve, commit, release of another, discontinue") {
  const auto product = api.created("LIFE", 10);
  REQUIRE(api.reserve(product.id, "a", 2).status == 200);
  REQUIRE(api.reserve(product.id, "b", 3).status == 200);
  const auto committed = api.command("POST", "/v1/products/" + product.id + "/reservations/a/commit", std::nullopt);
  INFO(describe(committed));
  CHECK(committed.status == 200);
  const auto released = api.command("DELETE", "/v1/products/" + product.id + "/reservations/b", std::nullopt);
  INFO(describe(released));
  CHECK(released.status == 200);
  const auto price = api.command("PUT", "/v1/products/" + product.id + "/price",
                                 std::string(R"({"price":{"amount":4200,"currency":"EUR"}})"));
  INFO(describe(price));
  CHECK(price.status == 200);
  const auto renamed = api.command("PATCH", "/v1/products/" + product.id, std::string(R"({"name":"Renamed","description":"Renamed by the e2e suite"})"));
  INFO(describe(renamed));
  CHECK(renamed.status == 200);
  const auto gone = api.command("POST", "/v1/products/" + product.id + "/discontinue",
                                std::string(R"({"reason":"end of line"})"));
  INFO(describe(gone));
  REQUIRE(gone.status == 200);

  const auto read = api.read(product.id, "min_position=" + result_of(gone).position);
  INFO(describe(read));
  REQUIRE(read.status == 200);
  const auto body_json = read.json();
  const auto& body = body_json.as_object();
  CHECK(body.at("stock_available").to_number<std::int64_t>() == 8);
  CHECK(body.at("stock_reserved").to_number<std::int64_t>() == 0);
  CHECK(body.at("name").as_string() == "Renamed");
  CHECK(body.at("price").as_object().at("amount").to_number<std::int64_t>() == 4200);
  CHECK(body.at("discontinued").as_bool());

  const auto after = api.restock(product.id, 1);
  CHECK(after.status == 422);
  CHECK(problem_code(after) == "product.discontinued");
}

}  // namespace cqrs::tests

namespace cqrs::tests {

TEST_CASE_FIXTURE(gateway_fixture, "a command that changes nothing answers 200 with position null and no X-Position") {
  const auto product = api.created("NOOP", 10);
  // The details the product already has: accepted, nothing written.
  const auto same = api.command("PATCH", "/v1/products/" + product.id,
                                R"({"name":"Test product","description":"Made by the gateway e2e suite"})");
  INFO(describe(same));
  REQUIRE(same.status == 200);
  const auto body_json = same.json();
  const auto& body = body_json.as_object();
  CHECK(body.at("position").is_null());
  CHECK(body.at("version").to_number<std::int64_t>() == 1);
  CHECK_FALSE(same.header("x-position").has_value());
  CHECK(etag_version(same.header("etag").value_or("")) == "1");
  CHECK(api.stored_events(product.id) == 1);
}

TEST_CASE_FIXTURE(gateway_fixture, "a create with If-Match is the documented precondition: \"0\" creates, another version is 412") {
  const auto created = api.create(unique_sku("IFMATCH"), 3, {{"If-Match", "\"0\""}});
  INFO(describe(created));
  CHECK(created.status == 201);
  const auto refused = api.create(unique_sku("IFMATCH"), 3, {{"If-Match", "\"4\""}});
  INFO(describe(refused));
  CHECK(refused.status == 412);
  CHECK(problem_code(refused) == "command.version_conflict");
}

}  // namespace cqrs::tests
