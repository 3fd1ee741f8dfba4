// The Product command routes' work against a real PostgreSQL: requests prepared as the router
// hands them over, run on a worker_context as the PostgreSQL pool would, answered as HTTP.

#include <doctest/doctest.h>

#include <map>
#include <string>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "gateway/product/product_command_routes.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"
#include "tests/pg_write/write_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using namespace cqrs::gateway;
using namespace cqrs::tests::write;

namespace {

using prepare_fn = detail::preparation (*)(const request_context&);

struct workers_on_test_db {
  worker_settings settings{tests::pg_url(), "redis://127.0.0.1:1/0", {}, nullptr, nullptr};
  worker_context workers{settings};

  // Prepares the request as the route would and runs its work on this worker.
  http_response send(prepare_fn prepare, const std::string& body, header_list headers, std::string product_id = {},
                     std::string subject = "alice") {
    http_request request{"POST", "/", "/", {}, std::move(headers), body, "127.0.0.1", {}};
    request_context ctx{request, {{"id", std::move(product_id)}}, principal{std::move(subject), {"admin"}}, "req-" + run_id()};
    auto prepared = prepare(ctx);
    REQUIRE(std::holds_alternative<detail::prepared_command>(prepared));
    auto next = detail::execute(workers, std::get<detail::prepared_command>(prepared));
    REQUIRE(std::holds_alternative<http_response>(next));
    return std::get<http_response>(std::move(next));
  }
};

std::string create_body(std::string_view name) {
  return fmt::format(R"({{"sku":"{}","name":"Lamp","description":"","price":{{"amount":1999,"currency":"EUR"}},"stock":5}})",
                     unique_sku(name));
}

boost::json::object body_of(const http_response& r) { return boost::json::parse(r.body).as_object(); }

std::string header_of(const http_response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return {};
}

std::string id_of(const http_response& r) { return std::string(body_of(r).at("id").as_string()); }

}  // namespace

TEST_CASE("a product created over HTTP is restocked, and a stale If-Match then answers 412") {
  workers_on_test_db db;
  const auto created = db.send(detail::prepare_create, create_body("routes412"), {{"idempotency-key", "c412-" + run_id()}});
  REQUIRE(created.status == 201);
  const auto id = id_of(created);
  CHECK(header_of(created, "Location") == "/v1/products/" + id);
  CHECK(header_of(created, "ETag") == "\"1\"");

  const auto restocked = db.send(detail::prepare_restock, R"({"quantity":3})", {{"if-match", "\"1\""}}, id);
  CHECK(restocked.status == 200);
  CHECK(body_of(restocked).at("version").as_int64() == 2);
  CHECK(header_of(restocked, "X-Position") == std::string(body_of(restocked).at("position").as_string()));

  const auto stale = db.send(detail::prepare_restock, R"({"quantity":3})", {{"if-match", "\"1\""}}, id);
  CHECK(stale.status == 412);
  CHECK(header_of(stale, "ETag") == "\"2\"");
  CHECK(body_of(stale).at("code").as_string() == "command.version_conflict");
}

TEST_CASE("a create retried with the same Idempotency-Key gets the same answer and appends one event") {
  workers_on_test_db db;
  const header_list key{{"idempotency-key", "cretry-" + run_id()}};
  const auto body = create_body("routesretry");
  const auto first = db.send(detail::prepare_create, body, key);
  const auto again = db.send(detail::prepare_create, body, key);

  REQUIRE(first.status == 201);
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  CHECK(header_of(again, "Idempotent-Replayed") == "true");
  CHECK(header_of(first, "Idempotent-Replayed").empty());
  const auto stream = core::stream_id::parse("product-" + id_of(first)).value();
  CHECK(whole_stream(db.workers.store(), stream).size() == 1);
}

TEST_CASE("the same Idempotency-Key with a different create answers 422 and appends nothing more") {
  workers_on_test_db db;
  const header_list key{{"idempotency-key", "creuse-" + run_id()}};
  const auto first = db.send(detail::prepare_create, create_body("routesreuse1"), key);
  const auto other = db.send(detail::prepare_create, create_body("routesreuse2"), key);
  REQUIRE(first.status == 201);
  CHECK(other.status == 422);
  CHECK(body_of(other).at("code").as_string() == "command.idempotency_key_reused");
}

TEST_CASE("another caller's same Idempotency-Key creates another product") {
  workers_on_test_db db;
  const header_list key{{"idempotency-key", "cshared-" + run_id()}};
  const auto alice = db.send(detail::prepare_create, create_body("routesalice"), key, {}, "alice");
  const auto bob = db.send(detail::prepare_create, create_body("routesbob"), key, {}, "bob");
  REQUIRE(alice.status == 201);
  REQUIRE(bob.status == 201);
  CHECK(id_of(alice) != id_of(bob));
  CHECK(header_of(bob, "Idempotent-Replayed").empty());
}

TEST_CASE("reservations and rejections over HTTP answer their statuses and request fields") {
  workers_on_test_db db;
  const auto id = id_of(db.send(detail::prepare_create, create_body("routesres"), {}));
  CHECK(db.send(detail::prepare_reserve, R"({"reservation_id":"order-1","quantity":2})", {}, id).status == 200);
  CHECK(db.send(detail::prepare_reserve, R"({"reservation_id":"order-2","quantity":99})", {}, id).status == 422);
  const auto bad = db.send(detail::prepare_restock, R"({"quantity":0})", {}, id);
  CHECK(bad.status == 400);
  CHECK(body_of(bad).at("code").as_string() == "product.invalid_quantity");
  CHECK(body_of(bad).at("errors").as_array().at(0).as_object().at("field").as_string() == "quantity");
  CHECK(db.send(detail::prepare_restock, R"({"quantity":1})", {}, "missing-" + run_id()).status == 404);
}
