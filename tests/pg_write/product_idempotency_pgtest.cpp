// Idempotency keys: the same key with the same command returns the first outcome without
// appending; with another command it is refused; concurrent retries append once.

#include <doctest/doctest.h>

#include <latch>
#include <mutex>
#include <thread>

#include "commands/pipeline_support.hpp"
#include "commands/product/product_aggregate.hpp"
#include "tests/pg_write/write_fixture.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;
using commands::product::product_outcome;
using commands::product::product_pipeline;

namespace {

schemas::reserve_stock reserve(std::string id, std::int64_t units) {
  return schemas::reserve_stock{schemas::reservation_id(std::move(id)), schemas::quantity(units)};
}

core::stream_id created_product(product_pipeline& pipeline, std::string name, std::int64_t stock) {
  const auto product = product_stream(name);
  const auto created = pipeline.handle({product, new_product(unique_sku(name), stock), as("setup")});
  if (!std::holds_alternative<commands::accepted>(created)) throw std::runtime_error("setup failed");
  return product;
}

// `retries` threads, each with its own store and pipeline, send the same keyed command at once.
std::vector<product_outcome> concurrent_retries(const core::stream_id& product, const schemas::product_command& command,
                                                const std::string& key, int retries) {
  std::latch start(retries);
  std::mutex mutex;
  std::vector<product_outcome> outcomes;
  std::vector<std::thread> threads;
  for (int i = 0; i < retries; ++i) {
    threads.emplace_back([&] {
      auto store = make_store();
      (void)store->current_version(product);  // connected before the start
      product_pipeline pipeline(*store);
      start.arrive_and_wait();
      auto outcome = pipeline.handle({product, command, as("a", key)});
      std::lock_guard lock(mutex);
      outcomes.push_back(std::move(outcome));
    });
  }
  for (auto& t : threads) t.join();
  return outcomes;
}

}  // namespace

TEST_CASE("a retried idempotency key appends once and answers as the first time") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = created_product(pipeline, "idem", 10);
  const auto key = "idem-" + run_id();

  const auto first = pipeline.handle({product, reserve("order-1", 2), as("alice", key)});
  const auto again = pipeline.handle({product, reserve("order-1", 2), as("alice", key)});

  const auto& a = std::get<commands::accepted>(first);
  const auto& b = std::get<commands::accepted>(again);
  CHECK_FALSE(a.replayed);
  CHECK(b.replayed);
  CHECK(b.version == a.version);
  CHECK(b.position == a.position);
  CHECK(b.event_ids == a.event_ids);
  const auto events = whole_stream(*store, product);
  CHECK(count_of(events, "product.stock_reserved") == 1);
  CHECK(pipeline.load(product).state.reserved == 2);
}

TEST_CASE("without a key the same retry is decided again and refused, which is why keys exist") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = created_product(pipeline, "nokey", 10);
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, reserve("order-1", 2), as("alice")})));
  const auto again = pipeline.handle({product, reserve("order-1", 2), as("alice")});
  const auto& refused = std::get<commands::rejected<commands::product::rejection>>(again);
  CHECK(refused.why.code == commands::product::errc::reservation_id_already_used);
}

TEST_CASE("the same key with a different command or another product is refused, nothing appended") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = created_product(pipeline, "reuse", 10);
  const auto other = created_product(pipeline, "reuse_other", 10);
  const auto key = "reuse-" + run_id();
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, reserve("order-1", 1), as("a", key)})));

  CHECK(std::holds_alternative<commands::idempotency_key_reused>(
      pipeline.handle({product, reserve("order-1", 3), as("a", key)})));
  CHECK(std::holds_alternative<commands::idempotency_key_reused>(
      pipeline.handle({other, reserve("order-1", 1), as("a", key)})));
  CHECK(whole_stream(*store, product).size() == 2);
  CHECK(whole_stream(*store, other).size() == 1);
}

TEST_CASE("eight concurrent retries of one keyed command append once and all get its outcome") {
  auto setup_store = make_store();
  product_pipeline setup(*setup_store);
  const auto product = created_product(setup, "idem8", 10);
  const auto outcomes = concurrent_retries(product, reserve("order-x", 1), "idem8-" + run_id(), 8);

  int original = 0;
  std::set<std::int64_t> versions;
  for (const auto& outcome : outcomes) {
    CAPTURE(outcome.index());
    REQUIRE(std::holds_alternative<commands::accepted>(outcome));
    const auto& ok = std::get<commands::accepted>(outcome);
    original += ok.replayed ? 0 : 1;
    versions.insert(ok.version.value());
  }
  CHECK(original == 1);
  CHECK(versions.size() == 1);
  CHECK(count_of(whole_stream(*setup_store, product), "product.stock_reserved") == 1);
}

TEST_CASE("a keyed rejection is kept: its retry gets the same refusal even after the product changed") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = created_product(pipeline, "keep_refusal", 1);
  const auto key = "refusal-" + run_id();
  const auto first = pipeline.handle({product, reserve("order-1", 5), as("alice", key)});
  const auto& refused = std::get<commands::rejected<commands::product::rejection>>(first);
  CHECK(refused.why.code == commands::product::errc::insufficient_stock);
  CHECK_FALSE(refused.replayed);

  REQUIRE(std::holds_alternative<commands::accepted>(
      pipeline.handle({product, schemas::restock_product{schemas::quantity(10)}, as("bob")})));
  const auto again = pipeline.handle({product, reserve("order-1", 5), as("alice", key)});
  const auto& replayed = std::get<commands::rejected<commands::product::rejection>>(again);
  CHECK(replayed.replayed);
  CHECK(replayed.why == refused.why);
  CHECK(count_of(whole_stream(*store, product), "product.stock_reserved") == 0);
  // The key is spent on that command: another command under it is refused, a new key decides.
  CHECK(std::holds_alternative<commands::idempotency_key_reused>(
      pipeline.handle({product, reserve("order-1", 2), as("alice", key)})));
  CHECK(std::holds_alternative<commands::accepted>(
      pipeline.handle({product, reserve("order-1", 5), as("alice", key + "-new")})));
}

TEST_CASE("a keyed command that changes nothing is kept too: its retry does not act on a later state") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = created_product(pipeline, "keep_noop", 4);
  const auto key = "noop-" + run_id();
  const schemas::update_product_details same{"Teapot", "Holds tea"};  // what it already says
  const auto first = pipeline.handle({product, same, as("a", key)});
  const auto& unchanged = std::get<commands::accepted>(first);
  REQUIRE_FALSE(unchanged.position.has_value());
  CHECK(unchanged.version == core::stream_version{1});

  REQUIRE(std::holds_alternative<commands::accepted>(
      pipeline.handle({product, schemas::update_product_details{"Kettle", "Boils water"}, as("b")})));
  // Decided again, the retry would rename the product back; kept, it answers as the first time.
  const auto again = pipeline.handle({product, same, as("a", key)});
  const auto& replayed = std::get<commands::accepted>(again);
  CHECK(replayed.replayed);
  CHECK(replayed.version == core::stream_version{1});
  CHECK_FALSE(replayed.position.has_value());
  CHECK(replayed.event_ids.empty());
  CHECK(pipeline.load(product).state.name == "Kettle");
}

TEST_CASE("with the cache: a refusal decided on a cached state is not kept, a kept one is answered again") {
  auto store = make_store();
  commands::product::product_pipeline::cache_type cache(100);
  product_pipeline pipeline(*store, {}, &cache);
  const auto product = created_product(pipeline, "keep_cached", 1);
  // The cache refuses (no stock in the planted state) where the stored stream accepts.
  auto planted = cache.find(product);
  REQUIRE(planted.has_value());
  planted->state.on_hand = 0;
  cache.forget(product);
  cache.put(product, planted->state, planted->version);
  const auto key = "cached-" + run_id();
  CHECK(std::holds_alternative<commands::accepted>(pipeline.handle({product, reserve("order-1", 1), as("a", key)})));
  const auto stored = store->find_command_outcome(key);
  REQUIRE(stored.has_value());
  CHECK(stored->position.has_value());  // the acceptance was kept, not the cache's refusal

  const auto key2 = key + "-2";
  const auto refused = pipeline.handle({product, reserve("order-2", 1), as("a", key2)});  // no stock left
  REQUIRE(std::holds_alternative<commands::rejected<commands::product::rejection>>(refused));
  const auto again = pipeline.handle({product, reserve("order-2", 1), as("a", key2)});
  const auto& replayed = std::get<commands::rejected<commands::product::rejection>>(again);
  CHECK(replayed.replayed);
  CHECK(replayed.why.code == commands::product::errc::insufficient_stock);
}

TEST_CASE("concurrent retries of one keyed command that is refused all get the one kept refusal") {
  auto setup_store = make_store();
  product_pipeline setup(*setup_store);
  const auto product = created_product(setup, "refuse8", 1);
  const auto key = "refuse8-" + run_id();
  const auto outcomes = concurrent_retries(product, reserve("order-x", 5), key, 8);
  int kept = 0;
  for (const auto& outcome : outcomes) {
    CAPTURE(outcome.index());
    REQUIRE(std::holds_alternative<commands::rejected<commands::product::rejection>>(outcome));
    const auto& r = std::get<commands::rejected<commands::product::rejection>>(outcome);
    CHECK(r.why.code == commands::product::errc::insufficient_stock);
    kept += r.replayed ? 0 : 1;
  }
  // Only the command whose refusal was stored answers it as its own; the others replay it.
  CHECK(kept == 1);
  const auto stored = setup_store->find_command_outcome(key);
  REQUIRE(stored.has_value());
  CHECK_FALSE(stored->position.has_value());
}

TEST_CASE("a stored refusal this build cannot read is an error, not an answer, and nothing is decided or appended") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto product = created_product(pipeline, "unreadable", 1);
  const auto key = "unreadable-" + run_id();
  const schemas::product_command command = reserve("order-1", 5);
  // As a later build with another rejection format would have stored it.
  const auto print = commands::detail::fingerprint(product, commands::product::product_aggregate::encode_command(command));
  REQUIRE(store->record_outcome({key, print, commands::detail::encode_refusal("{\"code\":\"later\"}")}, product,
                                core::stream_version{1})
              .value());
  CHECK_THROWS_AS((void)pipeline.handle({product, command, as("alice", key)}), std::runtime_error);
  CHECK(whole_stream(*store, product).size() == 1);
}
