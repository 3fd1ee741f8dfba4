// 64 concurrent reservations of one unit on a product with 10 in stock: the pipeline's
// reload-and-decide-again on conflicts must turn every lost race into a fresh decision, so that
// exactly 10 succeed, 54 are refused for insufficient stock, and none surfaces as a conflict.

#include <doctest/doctest.h>

#include <latch>
#include <mutex>
#include <thread>

#include "tests/pg_write/write_fixture.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;
using commands::product::product_outcome;
using commands::product::product_pipeline;

namespace {

struct tally {
  std::mutex mutex;
  int accepted = 0;
  int insufficient = 0;
  int other = 0;
  int max_attempts = 0;

  void add(const product_outcome& outcome) {
    std::lock_guard lock(mutex);
    if (const auto* ok = std::get_if<commands::accepted>(&outcome)) {
      ++accepted;
      max_attempts = std::max(max_attempts, ok->attempts);
    } else if (const auto* no = std::get_if<commands::rejected<commands::product::rejection>>(&outcome);
               no != nullptr && no->why.code == commands::product::errc::insufficient_stock) {
      ++insufficient;
    } else {
      ++other;
    }
  }
};

// One writer: its own connection (opened before the start line), one reservation.
void reserve_one(const core::stream_id& product, int number, std::latch& start, tally& counts) {
  auto store = make_store();
  (void)store->current_version(product);  // connect now, so that all writers start together
  product_pipeline pipeline(*store);
  start.arrive_and_wait();
  const schemas::reserve_stock command{schemas::reservation_id("order-" + std::to_string(number)), schemas::quantity(1)};
  counts.add(pipeline.handle({product, command, as("writer-" + std::to_string(number))}));
}

}  // namespace

TEST_CASE("64 concurrent reservations of 1 unit on stock 10: exactly 10 succeed, 54 are refused for stock") {
  const auto product = product_stream("race64");
  auto store = make_store();
  product_pipeline setup(*store);
  REQUIRE(std::holds_alternative<commands::accepted>(setup.handle({product, new_product(unique_sku("race64"), 10), as("setup")})));

  constexpr int writers = 64;
  std::latch start(writers);
  tally counts;
  std::vector<std::thread> threads;
  for (int i = 0; i < writers; ++i) threads.emplace_back(reserve_one, product, i, std::ref(start), std::ref(counts));
  for (auto& t : threads) t.join();

  CHECK(counts.accepted == 10);
  CHECK(counts.insufficient == 54);
  CHECK(counts.other == 0);
  MESSAGE("most decisions one successful reservation needed: " << counts.max_attempts);

  const auto events = whole_stream(*store, product);
  CHECK(count_of(events, "product.stock_reserved") == 10);
  CHECK(events.size() == 11);  // product.created and the 10 reservations
  const auto state = setup.load(product).state;
  CHECK(state.available() == 0);
  CHECK(state.reserved == 10);
  CHECK(state.open_reservations.size() == 10);
}
