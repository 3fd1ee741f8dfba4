// The gateway's query, history and operations routes against real PostgreSQL and Redis, without
// sockets: each request goes through the router, and its offloads run here on this thread's
// worker contexts, as the server's pools would run them; its Redis calls run on an async Redis
// connection (gateway::redis_async) driven here, as the server's I/O threads would run them.
//
// The routes read the production projection names (product_detail, product_catalog) of category
// "product"; products here carry this run's id, so reruns on the same servers do not collide.

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "core/metrics.hpp"
#include "gateway/cors_policy.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/http_metrics.hpp"
#include "gateway/jwt.hpp"
#include "gateway/operations_routes.hpp"
#include "gateway/product/product_query_routes.hpp"
#include "gateway/rate_limiter.hpp"
#include "gateway/read_model_lag.hpp"
#include "gateway/redis_async.hpp"
#include "gateway/router.hpp"
#include "gateway/stream_routes.hpp"
#include "gateway/worker_context.hpp"
#include "gateway/worker_pool.hpp"
#include "projections/catalog.hpp"
#include "schemas/contracts/catalog.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests {

namespace {

using gateway::http_request;
using gateway::http_response;

gateway::gateway_config query_config(std::chrono::milliseconds consistency_wait) {
  gateway::gateway_config config;
  config.engine.log = core::log_level::error;
  config.engine.postgres.url = pg_url();
  config.engine.redis.url = redis_url();
  config.auth.jwt_secret = "gateway-queries-test-secret-0123456789";
  config.relay_name = "gq_" + run_id();  // no relay checkpoint: a cross-stream min_position is never reached
  config.stream_partitions = 1;
  config.consistency_wait = consistency_wait;
  return config;
}

gateway::worker_settings settings_for(const gateway::gateway_config& config, const core::upcaster_registry& upcasters,
                                      std::string redis) {
  gateway::worker_settings s;
  s.pg_url = config.engine.postgres.url;
  s.redis_url = std::move(redis);
  s.upcasters = &upcasters;
  return s;
}

struct gateway_world {
  // The wait is what a min_position read not yet applied costs each test: short by default.
  explicit gateway_world(std::chrono::milliseconds consistency_wait = std::chrono::milliseconds(60))
      : config(query_config(consistency_wait)), tokens(config.auth), limiter(config.rate_limit), cors({}), metrics(registry),
        routes({config, tokens, limiter, cors, metrics}), projectors({pg_url(), redis_url(), projections::projection_scope()}) {
    schemas::register_upcasters(upcasters);
    gateway::add_product_query_routes(routes, config, &lag);
    gateway::add_stream_routes(routes, config);
  }

  // Route, then run each offload on the matching context and each Redis call on the async link
  // (or on `redis_side`'s Redis URL: a broken one) until a response, then finish.
  http_response call(const std::string& target, gateway::header_list headers = {},
                     gateway::worker_context* redis_side = nullptr) {
    http_request r;
    r.method = "GET";
    r.target = target;
    r.path = target.substr(0, target.find('?'));
    r.query = query_of(target);
    r.headers = std::move(headers);
    r.remote_address = "192.0.2.7";
    auto routed = routes.route(r);
    auto next = std::move(routed.first);
    for (;;) {
      if (auto* redis_call = std::get_if<gateway::redis_call>(&next)) {
        std::this_thread::sleep_for(redis_call->delay);
        auto then = std::move(redis_call->then);
        next = then(run_redis(*redis_call, redis_side != nullptr ? *broken_link : link));
        continue;
      }
      auto* job = std::get_if<gateway::offload>(&next);
      if (job == nullptr) break;
      std::this_thread::sleep_for(job->delay);
      auto work = std::move(job->work);
      auto& context = job->pool == gateway::pool_kind::postgres ? postgres : (redis_side ? *redis_side : redis);
      next = work(context);
    }
    auto response = std::get<http_response>(std::move(next));
    routes.finish(r, routed.route, response, std::chrono::milliseconds(1));
    return response;
  }

  gateway::redis_result run_redis(gateway::redis_call& redis_call, gateway::redis_async& on) {
    std::optional<gateway::redis_result> result;
    auto done = [&](gateway::redis_result r) { result = std::move(r); };
    // As the server runs it: a script, or commands back to back.
    if (redis_call.script == nullptr) {
      on.pipeline(std::move(redis_call.commands), done);
    } else {
      on.evaluate(*redis_call.script, std::move(redis_call.keys), std::move(redis_call.args), done);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!result && std::chrono::steady_clock::now() < deadline) {
      if (io.stopped()) io.restart();
      io.run_one_for(std::chrono::milliseconds(20));
    }
    REQUIRE(result.has_value());
    return std::move(*result);
  }

  static std::vector<std::pair<std::string, std::string>> query_of(const std::string& target) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto mark = target.find('?');
    if (mark == std::string::npos) return out;
    std::string_view rest(target);
    rest.remove_prefix(mark + 1);
    while (!rest.empty()) {
      const auto pair = rest.substr(0, rest.find('&'));
      const auto eq = pair.find('=');
      out.emplace_back(std::string(pair.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
      rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
    }
    return out;
  }

  // Appends to product-<id>; applies to the named projections ("detail", "catalog") only.
  core::log_position append(const std::string& id, const std::vector<schemas::product_event>& events,
                            std::set<std::string> apply_to = {"detail", "catalog"}) {
    const auto stream = core::stream_id::parse("product-" + id).value();
    std::vector<core::new_event> batch;
    for (const auto& event : events) {
      auto encoded = schemas::encode(event);
      batch.push_back({encoded.type, encoded.schema_version, encoded.data, std::nullopt});
    }
    const auto appended = projectors.store().append(stream, core::expected_version::any(), std::move(batch)).value();
    const auto from = appended.version.value() - static_cast<std::int64_t>(events.size()) + 1;
    const auto stored = projectors.store().read_stream(stream, core::stream_version{from}, 1000).value().events;
    if (apply_to.contains("detail")) projectors.targets().find("product_detail")->apply(stored);
    if (apply_to.contains("catalog")) projectors.targets().find("product_catalog")->apply(stored);
    return appended.last_position();
  }

  std::string admin() const { return "Bearer " + tokens.sign({"ops", {"admin"}, std::chrono::seconds(600)}); }

  gateway::gateway_config config;
  gateway::jwt_verifier tokens;
  gateway::rate_limiter limiter;
  gateway::cors_policy cors;
  core::metrics_registry registry;
  gateway::http_metrics metrics;
  gateway::router routes;
  gateway::read_model_lag lag;
  core::upcaster_registry upcasters;
  gateway::worker_settings settings = settings_for(config, upcasters, redis_url());
  gateway::worker_context postgres{settings};
  gateway::worker_context redis{settings};
  projections::runtime projectors;
  boost::asio::io_context io;
  gateway::redis_async link{io, redis_url()};
  // Nothing listens on port 1: every call on it fails at once.
  std::unique_ptr<gateway::redis_async> broken_link = std::make_unique<gateway::redis_async>(io, "redis://127.0.0.1:1/0");
};

boost::json::object body_of(const http_response& r) { return boost::json::parse(r.body).as_object(); }

std::string header_of(const http_response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return {};
}

bool names_field(const http_response& r, const std::string& field) {
  const auto body = body_of(r);  // kept: a range-for over a temporary's member would dangle
  for (const auto& e : body.at("errors").as_array()) {
    if (e.as_object().at("field").as_string() == field) return true;
  }
  return false;
}

std::string product_id(const std::string& name) { return fmt::format("gq{}-{}", run_id(), name); }

}  // namespace

TEST_CASE("a product is read from Redis with its ETag, and an unknown one is 404") {
  gateway_world w;
  const auto id = product_id("redis");
  w.append(id, {created("GQ-R-" + run_id(), 7, 1999), reserved("r1", 2),
                schemas::product_details_updated{"Lamp", "A brass lamp"}});
  const auto answer = w.call("/v1/products/" + id);
  REQUIRE(answer.status == 200);
  const auto body = body_of(answer);
  CHECK(body.at("id").as_string() == id);
  CHECK(body.at("name").as_string() == "Lamp");
  CHECK(body.at("description").as_string() == "A brass lamp");
  CHECK(body.at("price").as_object().at("amount").as_int64() == 1999);
  CHECK(body.at("price").as_object().at("currency").as_string() == "EUR");
  CHECK(body.at("stock_available").as_int64() == 5);
  CHECK(body.at("stock_reserved").as_int64() == 2);
  CHECK(body.at("discontinued").as_bool() == false);
  CHECK(body.at("version").as_int64() == 3);
  CHECK(header_of(answer, "ETag") == "\"3\"");
  const auto missing = w.call("/v1/products/" + product_id("nobody"));
  CHECK(missing.status == 404);
  CHECK(body_of(missing).at("code").as_string() == "resource_not_found");
}

TEST_CASE("a Redis miss, or Redis down, falls back to the PostgreSQL catalog model") {
  gateway_world w;
  const auto id = product_id("fallback");
  w.append(id, {created("GQ-F-" + run_id(), 4, 500), restocked(3)}, {"catalog"});
  const auto miss = w.call("/v1/products/" + id);
  REQUIRE(miss.status == 200);
  CHECK(body_of(miss).at("stock_available").as_int64() == 7);
  CHECK(body_of(miss).at("version").as_int64() == 2);

  // Nothing listens on port 1: every Redis use fails at once.
  const auto unreachable = settings_for(w.config, w.upcasters, "redis://127.0.0.1:1/0");
  gateway::worker_context broken_redis(unreachable);
  const auto down = w.call("/v1/products/" + id, {}, &broken_redis);
  REQUIRE(down.status == 200);
  CHECK(body_of(down).at("id").as_string() == id);
}

TEST_CASE("answers from a read model say how stale it is; strong reads and 404s do not") {
  gateway_world w;
  const auto id = product_id("staleness");
  w.append(id, {created("GQ-S-" + run_id(), 4, 500)});
  // Before any measurement, no header: nothing is known yet.
  CHECK(header_of(w.call("/v1/products/" + id), "Read-Model-Lag").empty());

  gateway::worker_pool pool(gateway::pool_kind::postgres, 1, 4, w.settings, &w.metrics);
  {
    const gateway::read_model_lag_monitor monitor(w.lag, pool, w.config, std::chrono::milliseconds(50));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while ((!w.lag.of("product_detail", gateway::read_model_lag::clock::now()) ||
            !w.lag.of("product_catalog", gateway::read_model_lag::clock::now())) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  pool.stop();
  // This world's projections keep no checkpoints, so the monitor finds them at the beginning of a
  // log that holds events: behind, by a count of events and some seconds.
  const auto detail = header_of(w.call("/v1/products/" + id), "Read-Model-Lag");
  CHECK(detail.starts_with(R"(model="product_detail", events=)"));
  CHECK(detail.find(", events=0,") == std::string::npos);
  const auto unreachable = settings_for(w.config, w.upcasters, "redis://127.0.0.1:1/0");
  gateway::worker_context broken_redis(unreachable);
  CHECK(header_of(w.call("/v1/products/" + id, {}, &broken_redis), "Read-Model-Lag")
            .starts_with(R"(model="product_catalog", events=)"));
  CHECK(header_of(w.call("/v1/products?q=GQ-S"), "Read-Model-Lag").starts_with(R"(model="product_catalog", )"));
  CHECK(header_of(w.call("/v1/products/" + id + "?consistency=strong"), "Read-Model-Lag").empty());
  CHECK(header_of(w.call("/v1/products/" + product_id("nobody-stale")), "Read-Model-Lag").empty());
}

TEST_CASE("consistency=strong folds the event store; eventual does not see unprojected events") {
  gateway_world w;
  const auto id = product_id("strong");
  w.append(id, {created("GQ-S-" + run_id(), 10, 100), restocked(3)}, {});
  const auto strong = w.call("/v1/products/" + id + "?consistency=strong");
  REQUIRE(strong.status == 200);
  CHECK(body_of(strong).at("version").as_int64() == 2);
  CHECK(body_of(strong).at("stock_available").as_int64() == 13);
  CHECK(header_of(strong, "ETag") == "\"2\"");
  CHECK(w.call("/v1/products/" + id).status == 404);
  CHECK(w.call("/v1/products/" + product_id("void") + "?consistency=strong").status == 404);
}

TEST_CASE("min_position not applied within the wait answers 503 not_yet_consistent; bad values 400") {
  gateway_world w;
  const auto id = product_id("ryw");
  const auto position = w.append(id, {created("GQ-W-" + run_id(), 1, 100)}, {});
  const auto started = std::chrono::steady_clock::now();
  const auto waited = w.call(fmt::format("/v1/products/{}?min_position={}", id, position.token()));
  CHECK(waited.status == 503);
  CHECK(body_of(waited).at("code").as_string() == "not_yet_consistent");
  CHECK(header_of(waited, "Retry-After") == "1");
  CHECK(std::chrono::steady_clock::now() - started >= w.config.consistency_wait);
  const auto by_header = w.call("/v1/products?q=x", {{"x-min-position", position.token()}});
  CHECK(by_header.status == 503);

  const auto bad = w.call("/v1/products/" + id + "?min_position=not-a-position&consistency=sometimes");
  CHECK(bad.status == 400);
  CHECK(names_field(bad, "min_position"));
  CHECK(names_field(bad, "consistency"));
  CHECK(w.call("/v1/products/" + id + "?min_position=" + std::string(32, 'A')).status == 400);
}

TEST_CASE("a min_position read of one product needs only that product's events, whatever the rest of the log holds") {
  gateway_world w;
  // A write transaction left open, its xid older than every position below: the relay could
  // publish none of them meanwhile, a read of one applied stream does not wait for it.
  pqxx::connection other_writer(pg_url());
  pqxx::work open_transaction(other_writer);
  open_transaction.exec("SELECT pg_current_xact_id()");
  const auto quiet = product_id("quiet");
  const auto own = w.append(quiet, {created("GQ-Q-" + run_id(), 5, 100)});
  // Another stream written after it and applied nowhere; there is no relay checkpoint at all.
  const auto busy = product_id("busy");
  w.append(busy, {created("GQ-B-" + run_id(), 1, 100)}, {});
  core::log_position elsewhere;
  for (int i = 0; i < 20; ++i) elsewhere = w.append(busy, {restocked(1)}, {});

  for (const auto& position : {own, elsewhere}) {
    const auto read = w.call(fmt::format("/v1/products/{}?min_position={}", quiet, position.token()));
    REQUIRE(read.status == 200);
    CHECK(body_of(read).at("version").as_int64() == 1);
    CHECK(body_of(read).at("stock_available").as_int64() == 5);
  }
  // The busy product's own events are not applied: its read waits them out.
  CHECK(w.call(fmt::format("/v1/products/{}?min_position={}", busy, elsewhere.token())).status == 503);
  // A product whose first event lies after the position did not exist there: 404 at once, applied or not.
  const auto late = product_id("late");
  w.append(late, {created("GQ-L-" + run_id(), 1, 100)}, {});
  CHECK(w.call(fmt::format("/v1/products/{}?min_position={}", late, own.token())).status == 404);
}

TEST_CASE("a min_position read answers from a model that has applied the stream, never from one behind it") {
  gateway_world w;
  const auto id = product_id("behind");
  w.append(id, {created("GQ-BH-" + run_id(), 5, 100)});
  // Version 2 reaches the catalog only: Redis holds version 1, behind the position.
  const auto second = w.append(id, {restocked(3)}, {"catalog"});
  const auto behind = w.call(fmt::format("/v1/products/{}?min_position={}", id, second.token()));
  CHECK(behind.status == 503);
  CHECK(body_of(behind).at("code").as_string() == "not_yet_consistent");
  CHECK(w.call("/v1/products/" + id).status == 200);  // eventual reads take Redis as it is

  const auto stream = core::stream_id::parse("product-" + id).value();
  w.projectors.targets().find("product_detail")->apply(
      w.projectors.store().read_stream(stream, core::stream_version{2}, 10).value().events);
  const auto caught_up = w.call(fmt::format("/v1/products/{}?min_position={}", id, second.token()));
  REQUIRE(caught_up.status == 200);
  CHECK(body_of(caught_up).at("version").as_int64() == 2);
  CHECK(body_of(caught_up).at("stock_available").as_int64() == 8);

  // Not in Redis at all: the catalog answers once it has applied the stream through the version.
  const auto pg_only = product_id("pgonly");
  const auto written = w.append(pg_only, {created("GQ-PG-" + run_id(), 4, 100), restocked(2)}, {"catalog"});
  const auto fallback = w.call(fmt::format("/v1/products/{}?min_position={}", pg_only, written.token()));
  REQUIRE(fallback.status == 200);
  CHECK(body_of(fallback).at("stock_available").as_int64() == 6);
}

TEST_CASE("a min_position read waits, holding no thread, until the product's event is applied") {
  gateway_world w(std::chrono::seconds(30));
  const auto id = product_id("waits");
  const auto position = w.append(id, {created("GQ-WT-" + run_id(), 9, 100)}, {});
  const auto stream = core::stream_id::parse("product-" + id).value();
  // Applied only once the read has looked and found nothing: its first offload applies it.
  bool applied = false;
  gateway::http_request r;
  r.method = "GET";
  r.target = fmt::format("/v1/products/{}?min_position={}", id, position.token());
  r.path = "/v1/products/" + id;
  r.query = gateway_world::query_of(r.target);
  r.remote_address = "192.0.2.7";
  auto next = w.routes.route(r).first;
  int looks = 0;
  for (;;) {
    if (auto* redis_call = std::get_if<gateway::redis_call>(&next)) {
      auto then = std::move(redis_call->then);
      next = then(w.run_redis(*redis_call, w.link));
      continue;
    }
    auto* job = std::get_if<gateway::offload>(&next);
    if (job == nullptr) break;
    if (job->delay > std::chrono::milliseconds(0)) ++looks;  // a timer step: the read is waiting
    if (looks == 2 && !applied) {
      const auto stored = w.projectors.store().read_stream(stream, core::stream_version{1}, 10).value().events;
      w.projectors.targets().find("product_catalog")->apply(stored);
      applied = true;
    }
    auto work = std::move(job->work);
    next = work(job->pool == gateway::pool_kind::postgres ? w.postgres : w.redis);
  }
  REQUIRE(applied);
  const auto answer = std::get<http_response>(std::move(next));
  REQUIRE(answer.status == 200);
  CHECK(body_of(answer).at("stock_available").as_int64() == 9);
}

TEST_CASE("the catalog searches, filters and pages with an opaque cursor") {
  gateway_world w;
  const auto word = "zq" + run_id();
  std::set<std::string> created_ids;
  for (int i = 0; i < 3; ++i) {
    const auto id = product_id(fmt::format("page{}", i));
    w.append(id, {created(fmt::format("GQ-P{}-{}", i, run_id()), i, 100 * (i + 1)),
                  schemas::product_details_updated{"Lantern " + word, "page test"}});
    created_ids.insert(id);
  }
  const auto first = w.call(fmt::format("/v1/products?q={}&limit=2", word));
  REQUIRE(first.status == 200);
  const auto page = body_of(first);
  REQUIRE(page.at("items").as_array().size() == 2);
  REQUIRE(page.at("next_cursor").is_string());
  const auto second = w.call(fmt::format("/v1/products?q={}&limit=2&cursor={}", word,
                                         std::string(page.at("next_cursor").as_string())));
  REQUIRE(second.status == 200);
  std::set<std::string> seen;
  for (const auto* p : {&first, &second}) {
    const auto body = body_of(*p);
    for (const auto& item : body.at("items").as_array()) seen.insert(std::string(item.at("id").as_string()));
  }
  CHECK(seen == created_ids);
  CHECK(body_of(second).at("next_cursor").is_null());
  const auto item = body_of(second).at("items").as_array().at(0).as_object();
  CHECK(item.at("price").as_object().at("amount").as_int64() == 300);

  CHECK(body_of(w.call(fmt::format("/v1/products?q={}&in_stock=true", word))).at("items").as_array().size() == 2);
  CHECK(body_of(w.call(fmt::format("/v1/products?q={}&min_price=200&max_price=200", word))).at("items").as_array().size() == 1);

  const auto bad = w.call("/v1/products?limit=0&min_price=-1&in_stock=maybe&cursor=%%%");
  CHECK(bad.status == 400);
  CHECK(body_of(bad).at("code").as_string() == "validation_failed");
  for (const auto* field : {"limit", "min_price", "in_stock", "cursor"}) CHECK(names_field(bad, field));
}

TEST_CASE("a stream's history pages by version, admin only; an unknown stream is 404") {
  gateway_world w;
  const auto id = product_id("history");
  w.append(id, {created("GQ-H-" + run_id(), 10, 100), restocked(1), reserved("h", 1)}, {});
  const auto all = w.call("/v1/streams/product-" + id + "/events", {{"authorization", w.admin()}});
  REQUIRE(all.status == 200);
  const auto events = body_of(all).at("events").as_array();
  REQUIRE(events.size() == 3);
  CHECK(events.at(0).at("type").as_string() == "product.created");
  CHECK(events.at(2).at("version").as_int64() == 3);
  CHECK(body_of(all).at("next_from_version").is_null());

  const auto later = w.call("/v1/streams/product-" + id + "/events?from_version=2&limit=1", {{"authorization", w.admin()}});
  REQUIRE(later.status == 200);
  CHECK(body_of(later).at("events").as_array().at(0).at("type").as_string() == "product.restocked");
  CHECK(body_of(later).at("next_from_version").as_int64() == 3);
  CHECK(w.call("/v1/streams/product-" + id + "/events?from_version=9", {{"authorization", w.admin()}}).status == 200);

  CHECK(w.call("/v1/streams/product-" + product_id("none") + "/events", {{"authorization", w.admin()}}).status == 404);
  const auto bad = w.call("/v1/streams/not%20a%20stream/events?limit=1001&from_version=0", {{"authorization", w.admin()}});
  CHECK(bad.status == 400);
  for (const auto* field : {"stream", "limit", "from_version"}) CHECK(names_field(bad, field));
  CHECK(w.call("/v1/streams/product-" + id + "/events").status == 401);
}

TEST_CASE("readyz names what is down, and metrics render lag and pool series") {
  gateway_world w;
  gateway::worker_pool postgres(gateway::pool_kind::postgres, 1, 4, w.settings, &w.metrics);
  gateway::worker_pool redis(gateway::pool_kind::redis, 1, 4, w.settings, &w.metrics);
  gateway::add_operations_routes(w.routes, {w.config, w.registry, postgres, redis, w.lag});
  w.lag.record(gateway::read_model_lag::clock::now(), core::log_position(1, 9), {{"product_catalog", core::log_position(1, 4)}});

  CHECK(w.call("/healthz").body == R"({"status":"ok"})");
  const auto ready = w.call("/readyz");
  CHECK(ready.status == 200);
  CHECK(body_of(ready).at("redis").as_string() == "up");

  const auto unreachable = settings_for(w.config, w.upcasters, "redis://127.0.0.1:1/0");
  gateway::worker_context broken_redis(unreachable);
  // Redis down still serves (reads fall back to PostgreSQL): 200, the body naming it degraded.
  const auto degraded = w.call("/readyz", {}, &broken_redis);
  CHECK(degraded.status == 200);
  CHECK(body_of(degraded).at("status").as_string() == "degraded");
  CHECK(body_of(degraded).at("postgres").as_string() == "up");
  CHECK(body_of(degraded).at("redis").as_string() == "down");
  CHECK(body_of(degraded).at("degraded").as_array().front().as_string() == "redis");

  const auto metrics = w.call("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(header_of(metrics, "Content-Type") == "text/plain; version=0.0.4");
  CHECK(metrics.body.find(fmt::format("cqrs_relay_lag_events{{relay=\"{}\"}}", w.config.relay_name)) != std::string::npos);
  CHECK(metrics.body.find("cqrs_projection_lag_events{projection=\"product_catalog\"}") != std::string::npos);
  CHECK(metrics.body.find("cqrs_pool_busy_threads{pool=\"postgres\"}") != std::string::npos);
  CHECK(metrics.body.find("cqrs_read_model_lag_seconds{projection=\"product_catalog\"}") != std::string::npos);
  CHECK(metrics.body.find("cqrs_read_model_lag_measured_ago_seconds{projection=\"product_catalog\"}") != std::string::npos);
  CHECK(metrics.body.find("cqrs_http_requests_total{route=\"GET /readyz\",method=\"GET\",status=\"200\"} 2") !=
        std::string::npos);
  postgres.stop();
  redis.stop();
}

}  // namespace cqrs::tests
