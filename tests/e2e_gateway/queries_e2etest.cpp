// Product queries, history and operations over real HTTP.

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/e2e_gateway/gateway_fixture.hpp"

namespace cqrs::tests {

namespace {

// A word no other product has: the catalog's full-text search finds exactly this run's products.
std::string unique_word() { return "zq" + run_id() + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000); }

std::set<std::string> ids_of(const http_answer& page) {
  std::set<std::string> ids;
  const auto json = page.json();
  for (const auto& item : json.as_object().at("items").as_array()) ids.insert(std::string(item.as_object().at("id").as_string()));
  return ids;
}

}  // namespace

TEST_CASE_FIXTURE(gateway_fixture, "the catalog search finds a new product at once with min_position") {
  const auto word = unique_word();
  const auto created = api.command("POST", "/v1/products", create_body(unique_sku("SEARCH"), 5, 1500, "Lantern " + word));
  INFO(describe(created));
  REQUIRE(created.status == 201);
  const auto product = result_of(created);

  const auto page = http.get(fmt::format("/v1/products?q={}&min_position={}", word, product.position));
  INFO(describe(page));
  REQUIRE(page.status == 200);
  REQUIRE(ids_of(page) == std::set<std::string>{product.id});
  const auto item_json = page.json();
  const auto& item = item_json.as_object().at("items").as_array().at(0).as_object();
  CHECK(item.at("name").as_string() == "Lantern " + word);
  CHECK(item.at("price").as_object().at("amount").to_number<std::int64_t>() == 1500);
  CHECK(item.at("stock_available").to_number<std::int64_t>() == 5);

  CHECK(ids_of(http.get(fmt::format("/v1/products?q={}&min_price=1500&max_price=1500&in_stock=true", word))).size() == 1);
  CHECK(ids_of(http.get(fmt::format("/v1/products?q={}&min_price=1501", word))).empty());
  CHECK(ids_of(http.get(fmt::format("/v1/products?q={}&max_price=1499", word))).empty());
}

TEST_CASE_FIXTURE(gateway_fixture, "the catalog pages with limit and next_cursor") {
  const auto word = unique_word();
  std::string last_position;
  std::set<std::string> created;
  for (int i = 0; i < 3; ++i) {
    const auto answer = api.command("POST", "/v1/products", create_body(unique_sku("PAGE"), 1, 100, "Page " + word));
    REQUIRE(answer.status == 201);
    created.insert(result_of(answer).id);
    last_position = result_of(answer).position;
  }
  const auto first = http.get(fmt::format("/v1/products?q={}&limit=2&min_position={}", word, last_position));
  INFO(describe(first));
  REQUIRE(first.status == 200);
  CHECK(ids_of(first).size() == 2);
  const auto first_json = first.json();
  const auto* cursor = first_json.as_object().if_contains("next_cursor");
  REQUIRE(cursor != nullptr);
  REQUIRE(cursor->is_string());
  const auto second = http.get(fmt::format("/v1/products?q={}&limit=2&cursor={}", word, url_encode(cursor->as_string())));
  INFO(describe(second));
  REQUIRE(second.status == 200);
  auto all = ids_of(first);
  for (const auto& id : ids_of(second)) all.insert(id);
  CHECK(all == created);
}

TEST_CASE_FIXTURE(gateway_fixture, "a strong read answers from the event store right after a command") {
  const auto product = api.created("STRONG", 10);
  const auto restocked = api.restock(product.id, 3);
  REQUIRE(restocked.status == 200);
  const auto read = api.read(product.id, "consistency=strong");
  INFO(describe(read));
  REQUIRE(read.status == 200);
  const auto body_json = read.json();
  const auto& body = body_json.as_object();
  CHECK(body.at("version").to_number<std::int64_t>() == 2);
  CHECK(body.at("stock_available").to_number<std::int64_t>() == 13);
  CHECK(etag_version(read.header("etag").value_or("")) == "2");
}

TEST_CASE_FIXTURE(gateway_fixture, "reading an unknown product answers 404") {
  const auto answer = api.read("no-such-product-" + run_id());
  INFO(describe(answer));
  CHECK(answer.status == 404);
  CHECK(answer.is_problem());
}

TEST_CASE_FIXTURE(gateway_fixture, "the history lists a stream's events in order") {
  const auto product = api.created("HISTORY", 10);
  REQUIRE(api.restock(product.id, 1).status == 200);
  REQUIRE(api.reserve(product.id, "h", 1).status == 200);
  const auto page = http.get("/v1/streams/product-" + product.id + "/events", bearer(engine.admin_token()));
  INFO(describe(page));
  REQUIRE(page.status == 200);
  const auto events_json = page.json();
  const auto& events = events_json.as_object().at("events").as_array();
  REQUIRE(events.size() == 3);
  CHECK(events.at(0).as_object().at("type").as_string() == "product.created");
  CHECK(events.at(2).as_object().at("type").as_string() == "product.stock_reserved");
  const auto later = http.get("/v1/streams/product-" + product.id + "/events?from_version=2&limit=1",
                              bearer(engine.admin_token()));
  INFO(describe(later));
  REQUIRE(later.status == 200);
  REQUIRE(later.json().as_object().at("events").as_array().size() == 1);
  CHECK(later.json().as_object().at("events").as_array().at(0).as_object().at("type").as_string() == "product.restocked");
}

TEST_CASE_FIXTURE(gateway_fixture, "healthz, readyz and metrics answer 200, and metrics count requests") {
  CHECK(http.get("/healthz").status == 200);
  CHECK(http.get("/readyz").status == 200);
  const auto metrics = http.get("/metrics");
  INFO(describe(metrics));
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("cqrs_http_requests_total") != std::string::npos);
  CHECK(metrics.header("content-type").value_or("").starts_with("text/plain"));
}

TEST_CASE_FIXTURE(gateway_fixture, "a sane X-Request-Id is echoed and a missing one generated") {
  const auto echoed = http.get("/healthz", {{"X-Request-Id", "e2e-" + run_id()}});
  CHECK(echoed.header("x-request-id") == "e2e-" + run_id());
  const auto generated = http.get("/healthz");
  CHECK(!generated.header("x-request-id").value_or("").empty());
}

TEST_CASE_FIXTURE(gateway_fixture, "with Redis stopped a product is still read from PostgreSQL, and Redis comes back") {
  const auto product = api.created("NOREDIS", 10);
  const auto reserved = api.reserve(product.id, "r", 4);
  REQUIRE(reserved.status == 200);
  const auto position = result_of(reserved).position;
  REQUIRE(api.read(product.id, "min_position=" + position).status == 200);
  {
    redis_outage outage;
    const auto read = api.read(product.id);
    INFO(describe(read));
    CHECK(read.status == 200);
    if (read.status == 200) {
      CHECK(read.json().as_object().at("stock_available").to_number<std::int64_t>() == 6);
      CHECK(read.json().as_object().at("id").as_string() == product.id);
    }
    // Reads still answer (from PostgreSQL): ready, degraded.
    const auto ready = http.get("/readyz");
    INFO(describe(ready));
    CHECK(ready.status == 200);
    CHECK(ready.body.find("\"redis\":\"down\"") != std::string::npos);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool redis_up = false;
  while (std::chrono::steady_clock::now() < deadline && !redis_up) {
    redis_up = http.get("/readyz").body.find("\"redis\":\"up\"") != std::string::npos;
    if (!redis_up) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(redis_up);
  const auto after = api.restock(product.id, 1);
  REQUIRE(after.status == 200);
  // The projector met the dead connection at its next apply: it cut the Redis models off and
  // catches them up from the event store once Redis answers, without exiting (nobody restarts it
  // here). The restarted Redis is empty (no persistence): that catch-up fills it again.
  http_answer read;
  const auto read_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  do {
    read = api.read(product.id, "min_position=" + result_of(after).position);
  } while (read.status == 503 && std::chrono::steady_clock::now() < read_deadline);
  const auto exited = engine.revive();
  INFO(fmt::format("exited and restarted: {}", fmt::join(exited, ", ")));
  CHECK(exited.empty());
  INFO(describe(read));
  CHECK(read.status == 200);
  if (read.status == 200) CHECK(read.json().as_object().at("stock_available").to_number<std::int64_t>() == 7);
}

}  // namespace cqrs::tests
