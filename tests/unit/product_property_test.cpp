// Property-style tests: thousands of random command sequences, checked after every step.
// - Available stock never goes negative, reserved units always equal the open reservations, and
//   stock stays within its bounds.
// - Folding every event decide produced, from nothing, reproduces the state the sequence reached
//   (the state is a function of the events alone), and so does a snapshot round trip.
// Seeds are fixed so that a failure reproduces; the failing seed is printed.

#include <doctest/doctest.h>

#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "commands/product/product_limits.hpp"
#include "schemas/contracts/product/product_codec.hpp"
#include "tests/unit/product_fixtures.hpp"

using namespace cqrs::tests::product;

namespace {

class command_generator {
 public:
  explicit command_generator(std::uint64_t seed) : random_(seed) {}

  s::product_command next() {
    switch (pick(0, 9)) {
      case 0: return create(pick(0, 5) == 0 ? "bad sku" : "SKU-1", pick(-2, 30));
      case 1: return s::update_product_details{pick(0, 3) == 0 ? "" : "Name " + std::to_string(pick(0, 3)), "d"};
      case 2: return s::change_product_price{eur(pick(-1, 3000))};
      case 3: return s::restock_product{units(quantity())};
      case 4:
      case 5:
      case 6: return s::reserve_stock{reservation(), units(quantity())};
      case 7: return s::release_reservation{reservation()};
      case 8: return s::commit_reservation{reservation()};
      default: return rarely_discontinue();
    }
  }

 private:
  std::int64_t pick(std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random_);
  }
  // Mostly small, sometimes zero, negative or past the bound.
  std::int64_t quantity() {
    const auto roll = pick(0, 19);
    if (roll == 0) return 0;
    if (roll == 1) return -pick(1, 5);
    if (roll == 2) return cqrs::commands::product::limits::max_quantity + 1;
    return pick(1, 8);
  }
  // Rare, or most sequences would spend their steps being refused as discontinued.
  s::product_command rarely_discontinue() {
    if (pick(0, 30) == 0) return s::discontinue_product{"random"};
    return s::restock_product{units(quantity())};
  }
  // Few ids, so that reuse, double release and commit after release happen often.
  s::reservation_id reservation() { return rid("r" + std::to_string(pick(0, 150))); }

  std::mt19937_64 random_;
};

void check_invariants(const p::product_state& state) {
  const auto open = std::accumulate(state.open_reservations.begin(), state.open_reservations.end(), std::int64_t{0},
                                    [](std::int64_t sum, const auto& r) { return sum + r.second; });
  REQUIRE(state.available() >= 0);
  REQUIRE(state.reserved == open);
  REQUIRE(state.reserved >= 0);
  REQUIRE(state.on_hand <= p::limits::max_on_hand);
  for (const auto& [id, units] : state.open_reservations) {
    REQUIRE(units > 0);
    REQUIRE_FALSE(state.closed_reservations.contains(id));
  }
}

// Every produced event survives its stored form unchanged.
void check_round_trip(const s::product_event& event) {
  const auto stored = s::encode(event);
  REQUIRE(s::decode_product_event(stored.type, stored.schema_version, stored.data) == event);
}

struct run_result {
  p::product_state state;
  std::vector<s::product_event> events;
  int accepted = 0;
};

run_result run_sequence(std::uint64_t seed, int steps) {
  command_generator commands(seed);
  run_result run{p::product_aggregate::initial_state(), {}, 0};
  for (int step = 0; step < steps; ++step) {
    const auto decision = p::decide(run.state, commands.next());
    if (!decision.accepted()) continue;
    ++run.accepted;
    for (const auto& event : decision.events()) {
      check_round_trip(event);
      run.state = p::evolve(std::move(run.state), event);
      run.events.push_back(event);
    }
    check_invariants(run.state);
  }
  return run;
}

}  // namespace

TEST_CASE("random command sequences never drive stock negative and folding their events reproduces the state") {
  int total_events = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    const auto run = run_sequence(seed, 400);
    REQUIRE(fold(run.events) == run.state);
    const auto snapshot = p::decode_snapshot(p::product_aggregate::snapshot_schema_version, p::encode_snapshot(run.state));
    REQUIRE(snapshot == run.state);
    total_events += static_cast<int>(run.events.size());
  }
  // The generator must actually exercise the rules, not be refused at the first step.
  CHECK(total_events > 300 * 50);
}

TEST_CASE("a random sequence reserves, releases and commits, and hits insufficient stock") {
  // A guard on the generator itself: the property above is only as good as what it explores.
  command_generator commands(42);
  auto state = p::product_aggregate::initial_state();
  std::set<p::errc> seen;
  std::set<std::size_t> kinds;
  for (int step = 0; step < 5000; ++step) {
    const auto decision = p::decide(state, commands.next());
    if (!decision.accepted()) {
      seen.insert(decision.rejection().code);
      continue;
    }
    for (const auto& event : decision.events()) {
      kinds.insert(event.index());
      state = p::evolve(std::move(state), event);
    }
  }
  CHECK(seen.contains(p::errc::insufficient_stock));
  CHECK(seen.contains(p::errc::reservation_id_already_used));
  CHECK(seen.contains(p::errc::reservation_closed));
  CHECK(kinds.size() == std::variant_size_v<s::product_event>);
}
