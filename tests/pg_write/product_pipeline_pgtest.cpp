// The command pipeline end to end: If-Match, retries on a hot stream, metadata on every event,
// no-op and refused commands, bad requests, and events stored under an older schema version.

#include <doctest/doctest.h>

#include <chrono>
#include <latch>
#include <mutex>
#include <thread>

#include "schemas/contracts/product/product_codec.hpp"
#include "schemas/contracts/product/product_events_history.hpp"
#include "tests/pg_write/write_fixture.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;
using commands::product::product_outcome;
using commands::product::product_pipeline;

namespace {

using rejected = commands::rejected<commands::product::rejection>;

commands::command_context if_match(std::int64_t version) {
  auto context = as("alice");
  context.if_match = core::stream_version{version};
  return context;
}

schemas::restock_product restock(std::int64_t units) { return schemas::restock_product{schemas::quantity(units)}; }

}  // namespace

TEST_CASE("If-Match: a matching expected version appends; a stale one is a conflict at once, nothing appended") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = product_stream("ifmatch");
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("ifmatch"), 1), if_match(0)})));
  const auto ok = pipeline.handle({product, restock(1), if_match(1)});
  CHECK(std::get<commands::accepted>(ok).version == core::stream_version{2});

  const auto stale = pipeline.handle({product, restock(1), if_match(1)});
  const auto& conflict = std::get<commands::version_conflict>(stale);
  CHECK(conflict.caller_expectation);
  CHECK(conflict.actual == core::stream_version{2});
  CHECK(conflict.attempts == 1);
  CHECK(store->current_version(product) == core::stream_version{2});
}

TEST_CASE("If-Match 0 creates only a product that does not exist yet") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = product_stream("ifmatch0");
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("ifmatch0"), 1), as("a")})));
  const auto again = pipeline.handle({product, new_product(unique_sku("ifmatch0b"), 1), if_match(0)});
  CHECK(std::get<commands::version_conflict>(again).caller_expectation);
}

TEST_CASE("on a hot stream with one attempt allowed, lost races surface as conflicts, never as lost writes") {
  auto setup_store = make_store();
  product_pipeline setup(*setup_store);
  const auto product = product_stream("hot");
  REQUIRE(std::holds_alternative<commands::accepted>(setup.handle({product, new_product(unique_sku("hot"), 0), as("s")})));
  commands::pipeline_options one_try;
  one_try.max_attempts = 1;
  constexpr int writers = 16;
  int accepted = 0;
  int conflicts = 0;
  for (int round = 0; round < 5 && conflicts == 0; ++round) {
    std::latch start(writers);
    std::mutex mutex;
    std::vector<std::thread> threads;
    for (int i = 0; i < writers; ++i) {
      threads.emplace_back([&] {
        auto store = make_store();
        (void)store->current_version(product);
        product_pipeline pipeline(*store, one_try);
        start.arrive_and_wait();
        const auto outcome = pipeline.handle({product, restock(1), as("w")});
        std::lock_guard lock(mutex);
        if (std::holds_alternative<commands::accepted>(outcome)) ++accepted;
        if (const auto* c = std::get_if<commands::version_conflict>(&outcome)) conflicts += c->caller_expectation ? 1000 : 1;
      });
    }
    for (auto& t : threads) t.join();
  }
  CHECK(conflicts > 0);
  CHECK(conflicts < 1000);  // retries ran out: not the caller's expectation
  CHECK(setup.load(product).state.on_hand == accepted);
}

TEST_CASE("every event carries command id, correlation and causation ids, actor and time") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = product_stream("meta");
  commands::command_context context{"cmd-1", "corr-1", "cause-1", "alice", std::nullopt, std::nullopt};
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds{5};
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("meta"), 1), context})));
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, restock(1), as("bob")})));
  const auto after = std::chrono::system_clock::now() + std::chrono::seconds{5};

  const auto events = whole_stream(*store, product);
  REQUIRE(events.size() == 2);
  CHECK(events[0].metadata.command_id == "cmd-1");
  CHECK(events[0].metadata.correlation_id == "corr-1");
  CHECK(events[0].metadata.causation_id == "cause-1");
  CHECK(events[0].metadata.actor == "alice");
  // Ids the caller left out: a generated command id doubles as correlation and causation id.
  REQUIRE(events[1].metadata.command_id.has_value());
  CHECK(events[1].metadata.correlation_id == events[1].metadata.command_id);
  CHECK(events[1].metadata.actor == "bob");
  for (const auto& e : events) {
    CHECK(e.recorded_at > before);
    CHECK(e.recorded_at < after);
  }
}

TEST_CASE("a command that changes nothing or is refused appends nothing") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = product_stream("noop");
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("noop"), 1), as("a")})));
  const auto same = pipeline.handle({product, schemas::update_product_details{"Teapot", "Holds tea"}, as("a")});
  CHECK(std::get<commands::accepted>(same).version == core::stream_version{1});
  CHECK_FALSE(std::get<commands::accepted>(same).position.has_value());
  const auto refused = pipeline.handle({product, schemas::reserve_stock{schemas::reservation_id("r"), schemas::quantity(2)}, as("a")});
  CHECK(std::get<rejected>(refused).why.code == commands::product::errc::insufficient_stock);
  CHECK(store->current_version(product) == core::stream_version{1});
}

TEST_CASE("bad requests are refused before anything is written") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto wrong_category = core::stream_id::parse("order-" + run_id()).value();
  CHECK(std::holds_alternative<commands::invalid_request>(pipeline.handle({wrong_category, new_product(unique_sku("x"), 1), as("a")})));
  const auto product = product_stream("bad");
  CHECK(std::holds_alternative<commands::invalid_request>(pipeline.handle({product, new_product(unique_sku("bad"), 1), as("")})));
  CHECK(std::holds_alternative<commands::invalid_request>(
      pipeline.handle({product, new_product(unique_sku("bad"), 1), as(std::string(500, 'a'))})));
  CHECK(store->current_version(product) == core::stream_version{0});
}

TEST_CASE("a product created under schema version 1 loads and takes commands as a current one") {
  auto store = make_store();
  const auto product = product_stream("v1");
  const auto v1 = schemas::encode_one(schemas::product_created_v1{schemas::sku(unique_sku("v1")), "Old teapot", 1500, 4});
  REQUIRE(store->append(product, core::expected_version::no_stream(),
                        {core::new_event{v1.type, v1.schema_version, v1.data, std::nullopt}}).ok());
  product_pipeline pipeline(*store);
  const auto loaded = pipeline.load(product);
  CHECK(loaded.state.price == schemas::money{1500, schemas::currency_code("EUR")});
  CHECK(loaded.state.on_hand == 4);
  CHECK(std::holds_alternative<commands::accepted>(
      pipeline.handle({product, schemas::reserve_stock{schemas::reservation_id("r"), schemas::quantity(4)}, as("a")})));
}
