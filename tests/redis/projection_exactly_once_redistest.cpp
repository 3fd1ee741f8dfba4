#include <algorithm>
#include <random>

#include <doctest/doctest.h>

#include "projections/product/product_projections.hpp"
#include "tests/redis/projection_fixture.hpp"

using namespace cqrs;
using cqrs::tests::projection_world;

namespace {

std::vector<core::recorded_event> history(projection_world& world, const std::string& id) {
  return tests::product_history(world, id);
}

}  // namespace

TEST_CASE("a redelivered event changes nothing in either store") {
  projection_world world("once");
  const auto events = history(world, "p1");
  for (auto* target : {&world.detail(), &world.catalog()}) {
    const auto first = target->apply(events);
    const auto again = target->apply(events);
    CHECK(first.applied == events.size());
    CHECK(again.applied == 0);
    CHECK(again.duplicates == events.size());
    CHECK(target->applied_version(world.stream("p1")).value() == 6);
  }
  const auto detail = projections::read_product_detail(world.redis(), "p1", world.detail_name()).value();
  CHECK(detail.at("on_hand") == "12");
  CHECK(detail.at("reserved") == "0");
  CHECK(detail.at("available") == "12");
  CHECK(detail.at("version") == "6");
  CHECK(world.pg_digest({"p1"}).find("\n  12\n  0\n  12\n") != std::string::npos);
}

TEST_CASE("an event beyond the next version first pulls the missing versions from the event store") {
  projection_world world("gap");
  const auto events = history(world, "p1");
  for (auto* target : {&world.detail(), &world.catalog()}) {
    const auto counts = target->apply(std::span(events).last(1));
    CHECK(counts.filled == 5);
    CHECK(counts.applied == 6);
    CHECK(target->apply(events).duplicates == 6);
  }
  projection_world reference("gapref");
  const auto ref_events = history(reference, "p1");
  reference.detail().apply(ref_events);
  reference.catalog().apply(ref_events);
  CHECK(world.redis_digest({"p1"}) == reference.redis_digest({"p1"}));
  CHECK(world.pg_digest({"p1"}) == reference.pg_digest({"p1"}));
}

TEST_CASE("events delivered shuffled and repeated give the same models as one in-order pass") {
  projection_world shuffled("shuf");
  projection_world ordered("ord");
  std::vector<core::recorded_event> all;
  std::vector<std::string> ids;
  for (int p = 0; p < 5; ++p) {
    ids.push_back("p" + std::to_string(p));
    const auto events = history(shuffled, ids.back());
    all.insert(all.end(), events.begin(), events.end());
    ordered.detail().apply(history(ordered, ids.back()));
    ordered.catalog().apply(ordered.whole_stream(ids.back()));
  }
  auto deliveries = all;
  deliveries.insert(deliveries.end(), all.begin(), all.begin() + 10);
  std::mt19937 generator(42);
  std::shuffle(deliveries.begin(), deliveries.end(), generator);
  for (const auto& event : deliveries) {
    shuffled.detail().apply(std::span(&event, 1));
    shuffled.catalog().apply(std::span(&event, 1));
  }
  CHECK(shuffled.redis_digest(ids) == ordered.redis_digest(ids));
  CHECK(shuffled.pg_digest(ids) == ordered.pg_digest(ids));
}

TEST_CASE("a failing change in PostgreSQL leaves neither the model nor the applied version changed") {
  projection_world world("atomic");
  const auto events = history(world, "p1");
  world.catalog().apply(std::span(events).first(2));
  auto poison = events[2];
  poison.payload = "not a cereal archive";
  CHECK_THROWS_AS(world.catalog().apply(std::span(&poison, 1)), projections::handler_error);
  CHECK(world.catalog().applied_version(world.stream("p1")).value() == 2);
  CHECK(world.catalog().apply(events).applied == 4);
}
