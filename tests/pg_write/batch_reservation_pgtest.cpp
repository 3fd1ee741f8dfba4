// batch_reservation: an order's lines reserved, released or committed on every product in one
// multi-stream append. All or none when one product lacks stock; two orders racing for the last
// units get one reservation; doing a batch again writes nothing; every event carries the caller's
// metadata; and the write-side read of products for placing an order.

#include <doctest/doctest.h>

#include <latch>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "commands/product/batch_reservation.hpp"
#include "tests/pg_write/write_fixture.hpp"

using namespace cqrs;
using namespace cqrs::tests::write;
using commands::product::batch_done;
using commands::product::batch_outcome;
using commands::product::batch_refused;
using commands::product::batch_reservation;
using commands::product::product_pipeline;

namespace {

schemas::product_id id_of(std::string_view name) { return schemas::product_id(run_id() + "_" + std::string(name)); }

// A product `name` with `stock` units at 19.99 EUR.
schemas::product_id make_product(core::event_store& store, std::string_view name, std::int64_t stock) {
  product_pipeline pipeline(store);
  const auto created = pipeline.handle({product_stream(name), new_product(unique_sku(name), stock), as("setup")});
  REQUIRE(std::holds_alternative<commands::accepted>(created));
  return id_of(name);
}

schemas::order_line line(const schemas::product_id& product, std::int64_t units, std::string currency = "EUR") {
  return schemas::order_line{product, schemas::quantity(units), schemas::money{1999, schemas::currency_code(currency)}};
}

commands::command_context saga_context() {
  commands::command_context context;
  context.actor = "order_fulfilment";
  context.correlation_id = "req-42";
  context.causation_id = "event-7";
  return context;
}

std::int64_t version_of(core::event_store& store, const schemas::product_id& product) {
  return store.current_version(core::stream_id::trusted("product-" + product.value())).value();
}

std::vector<core::recorded_event> events_of(core::event_store& store, const schemas::product_id& product) {
  return whole_stream(store, core::stream_id::trusted("product-" + product.value()));
}

bool done(const batch_outcome& outcome) { return std::holds_alternative<batch_done>(outcome); }

bool wrote(const batch_outcome& outcome) {
  const auto* ok = std::get_if<batch_done>(&outcome);
  return ok != nullptr && ok->last_position.has_value();
}

void check_refused(const batch_outcome& outcome, const schemas::product_id& product, commands::product::errc code) {
  const auto* refused = std::get_if<batch_refused>(&outcome);
  REQUIRE(refused != nullptr);
  CHECK(refused->product == product);
  CHECK(refused->reason.code == code);
}

}  // namespace

TEST_CASE("one product short of stock refuses the whole batch and writes on no product") {
  auto store = make_store();
  const auto a = make_product(*store, "short_a", 10);
  const auto b = make_product(*store, "short_b", 1);
  const auto c = make_product(*store, "short_c", 5);
  batch_reservation batch(*store);
  const auto reservation = commands::product::reservation_for(schemas::order_id("o-short"));

  check_refused(batch.reserve_all({line(a, 2), line(b, 3), line(c, 1)}, reservation, saga_context()), b,
                commands::product::errc::insufficient_stock);
  CHECK(version_of(*store, a) == 1);
  CHECK(version_of(*store, b) == 1);
  CHECK(version_of(*store, c) == 1);

  const auto reserved = batch.reserve_all({line(a, 2), line(b, 1), line(c, 1)}, reservation, saga_context());
  CHECK(wrote(reserved));
  for (const auto& product : {a, b, c}) {
    const auto events = events_of(*store, product);
    REQUIRE(events.size() == 2);
    CHECK(events[1].type == "product.stock_reserved");
    CHECK(events[1].metadata.actor == "order_fulfilment");
    CHECK(events[1].metadata.correlation_id == "req-42");
    CHECK(events[1].metadata.causation_id == "event-7");
    CHECK(events[1].position.xid() == events_of(*store, a)[1].position.xid());
  }
  CHECK(commands::product::current_products(*store, {b}).front().available == 0);
}

TEST_CASE("a batch done again writes nothing: reserve, commit and release are idempotent") {
  auto store = make_store();
  const auto a = make_product(*store, "again_a", 4);
  const auto b = make_product(*store, "again_b", 4);
  batch_reservation batch(*store);
  const auto reservation = schemas::reservation_id("o-again");
  const std::vector<schemas::order_line> lines{line(a, 1), line(b, 2)};

  CHECK(wrote(batch.reserve_all(lines, reservation, saga_context())));
  const auto again = batch.reserve_all(lines, reservation, saga_context());
  CHECK(done(again));
  CHECK_FALSE(wrote(again));
  CHECK(version_of(*store, a) == 2);

  CHECK(wrote(batch.commit_all(lines, reservation, saga_context())));
  CHECK_FALSE(wrote(batch.commit_all(lines, reservation, saga_context())));
  CHECK(done(batch.commit_all(lines, reservation, saga_context())));
  // Closed: neither a new reservation under the same id nor a release writes anything.
  CHECK_FALSE(wrote(batch.reserve_all(lines, reservation, saga_context())));
  CHECK_FALSE(wrote(batch.release_all(lines, reservation, saga_context())));
  CHECK(version_of(*store, a) == 3);
  CHECK(version_of(*store, b) == 3);
  CHECK(commands::product::current_products(*store, {b}).front().available == 2);

  // Another order: reserved, then released twice; releasing a product it never held is done too.
  const auto other = schemas::reservation_id("o-again-2");
  CHECK(wrote(batch.reserve_all({line(a, 3)}, other, saga_context())));
  CHECK(wrote(batch.release_all({line(a, 3), line(b, 1)}, other, saga_context())));
  CHECK_FALSE(wrote(batch.release_all({line(a, 3), line(b, 1)}, other, saga_context())));
  CHECK(count_of(events_of(*store, a), "product.reservation_released") == 1);
  CHECK(commands::product::current_products(*store, {a}).front().available == 3);
  // Committing what was never reserved is refused.
  check_refused(batch.commit_all({line(b, 1)}, other, saga_context()), b, commands::product::errc::reservation_not_found);
}

TEST_CASE("two orders racing for the last units of two products: exactly one holds its reservations") {
  for (int round = 0; round < 8; ++round) {
    CAPTURE(round);
    auto store = make_store();
    const auto x = make_product(*store, "race_x" + std::to_string(round), 3);
    const auto y = make_product(*store, "race_y" + std::to_string(round), 5);
    std::latch start(2);
    std::vector<batch_outcome> outcomes(2, batch_done{});
    std::vector<std::thread> racers;
    for (int order = 0; order < 2; ++order) {
      racers.emplace_back([&, order] {
        auto own = make_store();
        (void)own->current_version(core::stream_id::trusted("product-" + x.value()));  // connect before the start
        batch_reservation batch(*own);
        // The two orders name the products in opposite orders.
        const auto lines = order == 0 ? std::vector<schemas::order_line>{line(x, 2), line(y, 1)}
                                      : std::vector<schemas::order_line>{line(y, 1), line(x, 2)};
        start.arrive_and_wait();
        outcomes[static_cast<std::size_t>(order)] =
            batch.reserve_all(lines, schemas::reservation_id("o-race-" + std::to_string(order)), saga_context());
      });
    }
    for (auto& t : racers) t.join();
    const int winners = static_cast<int>(wrote(outcomes[0])) + static_cast<int>(wrote(outcomes[1]));
    CHECK(winners == 1);
    const auto& loser = wrote(outcomes[0]) ? outcomes[1] : outcomes[0];
    check_refused(loser, x, commands::product::errc::insufficient_stock);
    CHECK(count_of(events_of(*store, x), "product.stock_reserved") == 1);
    CHECK(count_of(events_of(*store, y), "product.stock_reserved") == 1);
  }
}

TEST_CASE("unknown, discontinued and other-currency products refuse the batch, naming the product") {
  auto store = make_store();
  const auto a = make_product(*store, "refuse_a", 5);
  const auto gone = make_product(*store, "refuse_gone", 5);
  product_pipeline pipeline(*store);
  REQUIRE(std::holds_alternative<commands::accepted>(
      pipeline.handle({product_stream("refuse_gone"), schemas::discontinue_product{"end of line"}, as("setup")})));
  batch_reservation batch(*store);
  const auto reservation = schemas::reservation_id("o-refuse");
  const auto missing = id_of("refuse_missing");

  check_refused(batch.reserve_all({line(a, 1), line(missing, 1)}, reservation, saga_context()), missing,
                commands::product::errc::product_not_found);
  check_refused(batch.reserve_all({line(a, 1), line(gone, 1)}, reservation, saga_context()), gone,
                commands::product::errc::product_discontinued);
  check_refused(batch.reserve_all({line(a, 1, "USD")}, reservation, saga_context()), a,
                commands::product::errc::invalid_currency);
  check_refused(batch.reserve_all({line(schemas::product_id("no spaces allowed"), 1)}, reservation, saga_context()),
                schemas::product_id("no spaces allowed"), commands::product::errc::product_not_found);
  CHECK(version_of(*store, a) == 1);
  // A context without an actor, or a product named twice, is an invalid request.
  CHECK(std::holds_alternative<commands::invalid_request>(batch.reserve_all({line(a, 1)}, reservation, {})));
  CHECK(std::holds_alternative<commands::invalid_request>(
      batch.reserve_all({line(a, 1), line(a, 1)}, reservation, saga_context())));
  CHECK(version_of(*store, a) == 1);
}

TEST_CASE("current_products reads price, existence, discontinuation and stock from the event store") {
  auto store = make_store();
  const auto a = make_product(*store, "facts_a", 7);
  const auto facts = commands::product::current_products(*store, {a, id_of("facts_missing"), schemas::product_id("bad id")});
  REQUIRE(facts.size() == 3);
  CHECK(facts[0].product == a);
  CHECK(facts[0].exists);
  CHECK_FALSE(facts[0].discontinued);
  CHECK(facts[0].price == schemas::money{1999, schemas::currency_code("EUR")});
  CHECK(facts[0].available == 7);
  CHECK_FALSE(facts[1].exists);
  CHECK_FALSE(facts[2].exists);
}
