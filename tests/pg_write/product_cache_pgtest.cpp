// The aggregate cache in the command pipeline: a hit is decided on the cached state and appended
// at exactly its version; a cache left stale by another writer never changes an answer: the
// append conflicts and the command is decided again on the stream as stored, and every answer
// other than an acceptance (a rejection, a failed If-Match) is decided on the stored stream.

#include <doctest/doctest.h>

#include <thread>
#include <fmt/format.h>
#include <vector>

#include "commands/product/product_aggregate.hpp"
#include "core/group_commit.hpp"
#include "tests/pg_write/write_fixture.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;
using commands::product::product_pipeline;

namespace {

using rejected = commands::rejected<commands::product::rejection>;
using product_cache = product_pipeline::cache_type;

schemas::restock_product restock(std::int64_t units) { return schemas::restock_product{schemas::quantity(units)}; }

schemas::reserve_stock reserve(std::string id, std::int64_t units) {
  return schemas::reserve_stock{schemas::reservation_id(std::move(id)), schemas::quantity(units)};
}

std::int64_t stored_on_hand(core::event_store& store, const core::stream_id& product) {
  product_pipeline reader(store);
  return reader.load(product).state.on_hand;
}

}  // namespace

TEST_CASE("aggregate cache: what the pipeline appends is cached at its new version and state") {
  auto store = make_store();
  product_cache cache(100);
  product_pipeline pipeline(*store, {}, &cache);
  const auto product = product_stream("cache-put");
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("cache-put"), 3), as("a")})));
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, restock(4), as("a")})));

  const auto entry = cache.find(product);
  REQUIRE(entry.has_value());
  CHECK(entry->version == core::stream_version{2});
  CHECK(entry->state == pipeline.load(product).state);
  CHECK(entry->state.on_hand == 7);
}

TEST_CASE("aggregate cache: a hit decides on the cached state without reading the stream") {
  auto store = make_store();
  product_cache cache(100);
  product_pipeline pipeline(*store, {}, &cache);
  const auto product = product_stream("cache-hit");
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("cache-hit"), 2), as("a")})));
  // An entry at the stream's true version is trusted as the fold of its events. Planting one with
  // more stock than stored shows that the decision was taken on it, not on a load: the stored
  // state would refuse this reservation.
  auto planted = cache.find(product);
  REQUIRE(planted.has_value());
  planted->state.on_hand = 100;
  cache.forget(product);
  cache.put(product, planted->state, planted->version);

  const auto outcome = pipeline.handle({product, reserve("r1", 50), as("a")});
  CHECK(std::get<commands::accepted>(outcome).version == core::stream_version{2});
}

TEST_CASE("aggregate cache: another writer's append makes the cached append conflict; the command is decided again on the stored stream") {
  auto store = make_store();
  auto other_store = make_store();
  product_cache cache(100);
  product_pipeline cached(*store, {}, &cache);
  product_pipeline other(*other_store);
  const auto product = product_stream("cache-stale");
  REQUIRE(std::holds_alternative<commands::accepted>(cached.handle({product, new_product(unique_sku("cache-stale"), 1), as("a")})));
  REQUIRE(std::holds_alternative<commands::accepted>(other.handle({product, restock(10), as("b")})));

  const auto outcome = cached.handle({product, restock(5), as("a")});
  const auto& done = std::get<commands::accepted>(outcome);
  CHECK(done.version == core::stream_version{3});
  CHECK(done.attempts == 1);  // the stale cache is not a retry of the command
  CHECK(stored_on_hand(*store, product) == 16);
  CHECK(cache.find(product)->version == core::stream_version{3});
  CHECK(cache.find(product)->state.on_hand == 16);
}

TEST_CASE("aggregate cache: a rejection on a stale cached state is decided again on the stored stream") {
  auto store = make_store();
  auto other_store = make_store();
  product_cache cache(100);
  product_pipeline cached(*store, {}, &cache);
  product_pipeline other(*other_store);
  const auto product = product_stream("cache-reject");
  REQUIRE(std::holds_alternative<commands::accepted>(cached.handle({product, new_product(unique_sku("cache-reject"), 1), as("a")})));
  REQUIRE(std::holds_alternative<commands::accepted>(other.handle({product, restock(20), as("b")})));

  // The cached state has 1 unit; the stream has 21.
  const auto outcome = cached.handle({product, reserve("r1", 12), as("a")});
  CHECK(std::get<commands::accepted>(outcome).version == core::stream_version{3});

  // And a rejection that holds on the stored stream is still a rejection.
  const auto refused = cached.handle({product, reserve("r2", 100), as("a")});
  CHECK(std::holds_alternative<rejected>(refused));
}

TEST_CASE("aggregate cache: If-Match is checked against the stored stream, not a stale cached version") {
  auto store = make_store();
  auto other_store = make_store();
  product_cache cache(100);
  product_pipeline cached(*store, {}, &cache);
  product_pipeline other(*other_store);
  const auto product = product_stream("cache-ifmatch");
  REQUIRE(std::holds_alternative<commands::accepted>(cached.handle({product, new_product(unique_sku("cache-ifmatch"), 1), as("a")})));
  REQUIRE(std::holds_alternative<commands::accepted>(other.handle({product, restock(1), as("b")})));

  auto context = as("a");
  context.if_match = core::stream_version{2};  // the true version; the cache holds 1
  const auto outcome = cached.handle({product, restock(1), context});
  CHECK(std::get<commands::accepted>(outcome).version == core::stream_version{3});

  context.if_match = core::stream_version{2};  // now stale for real
  const auto stale = cached.handle({product, restock(1), context});
  const auto& conflict = std::get<commands::version_conflict>(stale);
  CHECK(conflict.caller_expectation);
  CHECK(conflict.actual == core::stream_version{3});
}

TEST_CASE("aggregate cache: an idempotent retry answers the first outcome from a cached stream") {
  auto store = make_store();
  product_cache cache(100);
  product_pipeline pipeline(*store, {}, &cache);
  const auto product = product_stream("cache-idem");
  REQUIRE(std::holds_alternative<commands::accepted>(pipeline.handle({product, new_product(unique_sku("cache-idem"), 1), as("a")})));
  const auto first = std::get<commands::accepted>(pipeline.handle({product, restock(2), as("a", "key-1")}));
  const auto again = std::get<commands::accepted>(pipeline.handle({product, restock(2), as("a", "key-1")}));
  CHECK(again.replayed);
  CHECK(again.version == first.version);
  CHECK(stored_on_hand(*store, product) == 3);
}

TEST_CASE("aggregate cache: bounded, and an older entry never replaces a newer one") {
  product_cache cache(32, 4);
  commands::product::product_state state;
  for (int i = 0; i < 200; ++i) cache.put(product_stream("bound-" + std::to_string(i)), state, core::stream_version{1});
  CHECK(cache.size() <= 36);  // capacity / shards + 1 per shard
  CHECK(cache.size() >= 32);

  const auto product = product_stream("newer");
  state.on_hand = 5;
  cache.put(product, state, core::stream_version{5});
  state.on_hand = 4;
  cache.put(product, state, core::stream_version{4});
  CHECK(cache.find(product)->version == core::stream_version{5});
  CHECK(cache.find(product)->state.on_hand == 5);
  cache.forget(product);
  CHECK_FALSE(cache.find(product).has_value());
}

TEST_CASE("group commit: pipelines on 8 threads sharing a cache and a group commit lose and double nothing") {
  constexpr int threads = 8;
  constexpr int products = 5;
  constexpr int restocks_per_thread = 60;
  product_cache cache(100);
  core::group_commit group(64);
  commands::pipeline_options options;
  options.group = &group;
  std::vector<core::stream_id> ids;
  {
    auto store = make_store();
    product_pipeline pipeline(*store, options, &cache);
    for (int p = 0; p < products; ++p) {
      ids.push_back(product_stream("group-" + std::to_string(p)));
      REQUIRE(std::holds_alternative<commands::accepted>(
          pipeline.handle({ids.back(), new_product(unique_sku("group-" + std::to_string(p)), 0), as("a")})));
    }
  }
  // Few products and many threads: the same stream often comes twice into one group, and cached
  // states go stale, so conflicts, retries and groups all happen.
  std::vector<int> refused(threads, 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto store = make_store();
      product_pipeline pipeline(*store, options, &cache);
      for (int i = 0; i < restocks_per_thread; ++i) {
        const auto& product = ids[static_cast<std::size_t>((t + i) % products)];
        // Every other command carries an idempotency key: its outcome goes in with its event.
        const auto key = i % 2 == 0 ? std::optional<std::string>(fmt::format("group-{}-{}-{}", run_id(), t, i)) : std::nullopt;
        if (!std::holds_alternative<commands::accepted>(pipeline.handle({product, restock(1), as("a", key)}))) ++refused[t];
      }
    });
  }
  for (auto& w : workers) w.join();

  for (const int r : refused) CHECK(r == 0);
  CHECK(group.groups() > 0);
  auto store = make_store();
  std::int64_t total = 0;
  for (const auto& product : ids) {
    const auto events = whole_stream(*store, product);
    for (std::size_t v = 0; v < events.size(); ++v) CHECK(events[v].version.value() == static_cast<std::int64_t>(v + 1));
    total += stored_on_hand(*store, product);
  }
  CHECK(total == threads * restocks_per_thread);
  // Each keyed command's outcome names its own event: replaying the key answers it, appends nothing.
  product_pipeline replayer(*store, options, &cache);
  for (int t = 0; t < threads; ++t) {
    const auto key = fmt::format("group-{}-{}-{}", run_id(), t, 0);
    const auto stored = store->find_command_outcome(key);
    REQUIRE(stored.has_value());
    REQUIRE(stored->position.has_value());
    const auto again = replayer.handle({ids[static_cast<std::size_t>(t % products)], restock(1), as("a", key)});
    const auto& done = std::get<commands::accepted>(again);
    CHECK(done.replayed);
    CHECK(done.position == stored->position);
  }
}
