// The command routes' cached path against a real PostgreSQL: a command the cached state accepts
// at once becomes an append_call (decided on the I/O thread, appended by core::append_committer),
// and every answer the committer can give is turned into the right step: a 200, the whole
// pipeline on the pool (the stream moved, or no room), or a 503.

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/append_committer.hpp"
#include "gateway/product/product_command_routes.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"
#include "tests/pg_write/write_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using namespace cqrs::gateway;
using namespace cqrs::tests::write;
using namespace std::chrono_literals;

namespace {

using prepare_fn = detail::preparation (*)(const request_context&);
using product_cache = commands::product::product_pipeline::cache_type;

struct cached_routes {
  std::shared_ptr<const command_caches> caches = [] {
    auto made = std::make_shared<command_caches>();
    made->add<commands::product::product_aggregate>(1000);
    return made;
  }();
  product_cache* cache = caches->find<commands::product::product_aggregate>();
  worker_settings settings{tests::pg_url(), "redis://127.0.0.1:1/0", {}, nullptr, nullptr, caches};
  worker_context workers{settings};
  product_command_dependencies deps{cache, {}};
  core::append_committer committer{store_options(), 64, 100};

  static core::store_options store_options() {
    core::store_options options;
    options.url = tests::pg_url();
    return options;
  }

  step first(prepare_fn prepare, const std::string& body, header_list headers, const std::string& product_id) {
    http_request request{"POST", "/", "/", {}, std::move(headers), body, "127.0.0.1", {}};
    request_context ctx{request, {{"id", product_id}}, principal{"alice", {"admin"}}, "req-" + run_id()};
    auto prepared = prepare(ctx);
    REQUIRE(std::holds_alternative<detail::prepared_command>(prepared));
    return detail::first_step(deps, std::get<detail::prepared_command>(std::move(prepared)));
  }

  // Runs steps as the server would (append_calls on the committer, offloads on this worker) until
  // a response; counts the append_calls met.
  http_response run(step next, int& append_calls) {
    for (;;) {
      if (auto* call = std::get_if<append_call>(&next)) {
        ++append_calls;
        next = call->then(commit(std::move(call->request)));
      } else if (auto* job = std::get_if<offload>(&next)) {
        next = job->work(workers);
      } else {
        return std::get<http_response>(std::move(next));
      }
    }
  }

  http_response send(prepare_fn prepare, const std::string& body, header_list headers, const std::string& product_id,
                     int& append_calls) {
    return run(first(prepare, body, std::move(headers), product_id), append_calls);
  }

  core::committer_answer commit(core::append_request request) { return commit_on(committer, std::move(request)); }

  static core::committer_answer commit_on(core::append_committer& on, core::append_request request) {
    std::promise<core::committer_answer> answered;
    auto answer = answered.get_future();
    REQUIRE(on.try_submit(std::move(request), [&](core::committer_answer a) { answered.set_value(std::move(a)); }));
    REQUIRE(answer.wait_for(30s) == std::future_status::ready);
    return answer.get();
  }
};

std::string create_body(std::string_view name) {
  return fmt::format(R"({{"sku":"{}","name":"Lamp","description":"","price":{{"amount":1999,"currency":"EUR"}},"stock":5}})",
                     unique_sku(name));
}

boost::json::object body_of(const http_response& r) { return boost::json::parse(r.body).as_object(); }

std::string id_of(const http_response& r) { return std::string(body_of(r).at("id").as_string()); }

core::stream_id stream_of(const std::string& id) { return core::stream_id::parse("product-" + id).value(); }

std::string create(cached_routes& routes, std::string_view name) {
  int calls = 0;
  const auto created = routes.send(detail::prepare_create, create_body(name), {}, "", calls);
  REQUIRE(created.status == 201);
  CHECK(calls == 0);  // a create has nothing cached, and claims its SKU: the pool's pipeline
  return id_of(created);
}

}  // namespace

TEST_CASE("cached commands: a cached product's restock is appended by the committer and answered from the cache") {
  cached_routes routes;
  const auto id = create(routes, "cached1");
  for (int version = 2; version <= 4; ++version) {
    int calls = 0;
    const auto restocked = routes.send(detail::prepare_restock, R"({"quantity":3})", {}, id, calls);
    CHECK(calls == 1);
    REQUIRE(restocked.status == 200);
    CHECK(body_of(restocked).at("version").as_int64() == version);
    CHECK_FALSE(body_of(restocked).at("position").is_null());
  }
  const auto cached = routes.cache->find(stream_of(id));
  REQUIRE(cached);
  CHECK(cached->version.value() == 4);
  CHECK(cached->state.on_hand == 5 + 9);
  const auto stored = whole_stream(routes.workers.store(), stream_of(id));
  REQUIRE(stored.size() == 4);
  CHECK(routes.committer.appends() == 3);
}

TEST_CASE("cached commands: another writer's append makes the committer refuse; the pool decides again on the stored stream") {
  cached_routes routes;
  const auto id = create(routes, "cached2");
  // Another process restocks: this gateway's cache still says version 1.
  commands::product::product_pipeline other(routes.workers.store());
  const auto outside = other.handle({stream_of(id), schemas::product_command{schemas::restock_product{schemas::quantity(10)}},
                                     as("bob")});
  REQUIRE(std::holds_alternative<commands::accepted>(outside));

  int calls = 0;
  const auto restocked = routes.send(detail::prepare_restock, R"({"quantity":1})", {}, id, calls);
  CHECK(calls == 1);  // tried on the cache, not written, then decided on the pool
  REQUIRE(restocked.status == 200);
  CHECK(body_of(restocked).at("version").as_int64() == 3);
  const auto cached = routes.cache->find(stream_of(id));
  REQUIRE(cached);
  CHECK(cached->version.value() == 3);
  CHECK(cached->state.on_hand == 5 + 10 + 1);
}

TEST_CASE("cached commands: what the cache cannot answer alone goes to the pool") {
  cached_routes routes;
  const auto id = create(routes, "cached3");
  const auto is_offload = [](const step& s) { return std::holds_alternative<offload>(s); };

  // A key must be looked up and stored; a rejection and a failed If-Match are decided on the stored stream.
  CHECK(is_offload(routes.first(detail::prepare_restock, R"({"quantity":1})", {{"idempotency-key", "k-" + run_id()}}, id)));
  CHECK(is_offload(routes.first(detail::prepare_reserve, R"({"reservation_id":"r1","quantity":99})", {}, id)));
  CHECK(is_offload(routes.first(detail::prepare_restock, R"({"quantity":1})", {{"if-match", "\"7\""}}, id)));
  CHECK(std::holds_alternative<append_call>(
      routes.first(detail::prepare_restock, R"({"quantity":1})", {{"if-match", "\"1\""}}, id)));
  // Nothing cached, or no cache at all.
  CHECK(is_offload(routes.first(detail::prepare_restock, R"({"quantity":1})", {}, "uncached-" + run_id())));
  routes.deps.cache = nullptr;
  CHECK(is_offload(routes.first(detail::prepare_restock, R"({"quantity":1})", {}, id)));

  int calls = 0;
  CHECK(routes.run(routes.first(detail::prepare_reserve, R"({"reservation_id":"r1","quantity":99})", {}, id), calls)
            .status == 422);
  CHECK(calls == 0);
}

TEST_CASE("cached commands: a refused hand-over runs on the pool, a failed append answers 503, and neither forgets the cache") {
  cached_routes routes;
  const auto id = create(routes, "cached4");

  auto refused = routes.first(detail::prepare_restock, R"({"quantity":2})", {}, id);
  REQUIRE(std::holds_alternative<append_call>(refused));
  auto on_pool = std::get<append_call>(refused).then(core::committer_answer{});
  REQUIRE(std::holds_alternative<offload>(on_pool));
  int calls = 0;
  const auto answered = routes.run(std::move(on_pool), calls);
  REQUIRE(answered.status == 200);
  CHECK(body_of(answered).at("version").as_int64() == 2);

  // A committer whose PostgreSQL cannot be reached: the store's own error, answered as the pool's 503.
  auto options = cached_routes::store_options();
  options.url = "postgresql://cqrs@127.0.0.1:1/cqrs?connect_timeout=2";
  core::append_committer unreachable(options, 64, 10);
  auto doomed = routes.first(detail::prepare_restock, R"({"quantity":2})", {}, id);
  REQUIRE(std::holds_alternative<append_call>(doomed));
  auto& call = std::get<append_call>(doomed);
  auto down = cached_routes::commit_on(unreachable, std::move(call.request));
  REQUIRE(down.what == core::committer_answer::kind::failed);
  const auto outage = call.then(std::move(down));
  REQUIRE(std::holds_alternative<http_response>(outage));
  CHECK(std::get<http_response>(outage).status == 503);
  CHECK(std::get<http_response>(outage).body.find("dependency_unavailable") != std::string::npos);
  CHECK(whole_stream(routes.workers.store(), stream_of(id)).size() == 2);
  REQUIRE(routes.cache->find(stream_of(id)));
  CHECK(routes.cache->find(stream_of(id))->version.value() == 2);

  // A failure that is not the store's (a bug) is not dressed up as an outage: it propagates, and
  // the server's failed() logs it and answers 500.
  auto buggy = routes.first(detail::prepare_restock, R"({"quantity":2})", {}, id);
  REQUIRE(std::holds_alternative<append_call>(buggy));
  const core::committer_answer broken{core::committer_answer::kind::failed, std::nullopt,
                                      std::make_exception_ptr(std::logic_error("a bug"))};
  CHECK_THROWS_AS(std::get<append_call>(buggy).then(broken), std::logic_error);
  CHECK(routes.cache->find(stream_of(id))->version.value() == 2);
}
