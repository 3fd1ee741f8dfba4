// SKU uniqueness across products under concurrent creates: the claim is written in the same
// transaction as product.created, so of two creates with one SKU exactly one commits.

#include <doctest/doctest.h>

#include <latch>
#include <thread>

#include "tests/pg_write/write_fixture.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;
using commands::product::errc;
using commands::product::product_outcome;
using commands::product::product_pipeline;

namespace {

using rejected = commands::rejected<commands::product::rejection>;

bool is_accepted(const product_outcome& o) { return std::holds_alternative<commands::accepted>(o); }

bool refused_with(const product_outcome& o, errc code) {
  const auto* no = std::get_if<rejected>(&o);
  return no != nullptr && no->why.code == code;
}

// Runs two creates at once, each on its own connection, and returns both outcomes.
std::pair<product_outcome, product_outcome> create_concurrently(const commands::product::product_envelope& a,
                                                                const commands::product::product_envelope& b) {
  std::latch start(2);
  std::optional<product_outcome> first;
  std::optional<product_outcome> second;
  auto run = [&start](const commands::product::product_envelope& envelope, std::optional<product_outcome>& out) {
    auto store = make_store();
    (void)store->current_version(envelope.target);
    product_pipeline pipeline(*store);
    start.arrive_and_wait();
    out = pipeline.handle(envelope);
  };
  std::thread t1(run, std::cref(a), std::ref(first));
  std::thread t2(run, std::cref(b), std::ref(second));
  t1.join();
  t2.join();
  return {std::move(*first), std::move(*second)};
}

}  // namespace

TEST_CASE("two concurrent creates of different products with one SKU: exactly one succeeds") {
  auto store = make_store();
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    const auto sku = unique_sku("dup" + std::to_string(round));
    const auto left = product_stream("skuA" + std::to_string(round));
    const auto right = product_stream("skuB" + std::to_string(round));
    const auto [a, b] = create_concurrently({left, new_product(sku, 1), as("a")}, {right, new_product(sku, 2), as("b")});
    REQUIRE(is_accepted(a) != is_accepted(b));
    const auto& loser = is_accepted(a) ? b : a;
    CHECK(refused_with(loser, errc::sku_already_taken));
    const auto& loser_stream = is_accepted(a) ? right : left;
    CHECK(store->current_version(loser_stream) == core::stream_version{0});
  }
}

TEST_CASE("a SKU already taken is refused for another product, also long after") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  const auto sku = unique_sku("taken");
  REQUIRE(is_accepted(pipeline.handle({product_stream("owner"), new_product(sku, 1), as("a")})));
  CHECK(refused_with(pipeline.handle({product_stream("thief"), new_product(sku, 1), as("b")}), errc::sku_already_taken));
}

TEST_CASE("two concurrent creates of one product: one succeeds, and the loser's SKU stays free") {
  auto store = make_store();
  product_pipeline pipeline(*store);
  for (int round = 0; round < 10; ++round) {
    CAPTURE(round);
    const auto product = product_stream("same" + std::to_string(round));
    const auto sku_a = unique_sku("samea" + std::to_string(round));
    const auto sku_b = unique_sku("sameb" + std::to_string(round));
    const auto [a, b] = create_concurrently({product, new_product(sku_a, 1), as("a")}, {product, new_product(sku_b, 1), as("b")});
    REQUIRE(is_accepted(a) != is_accepted(b));
    CHECK(refused_with(is_accepted(a) ? b : a, errc::product_already_exists));
    // The losing transaction's claim was rolled back with it: another product may take that SKU.
    const auto& free_sku = is_accepted(a) ? sku_b : sku_a;
    CHECK(is_accepted(pipeline.handle({product_stream("later" + std::to_string(round)), new_product(free_sku, 1), as("c")})));
  }
}
