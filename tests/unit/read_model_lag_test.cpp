// gateway::read_model_lag: the figures behind the Read-Model-Lag header, from measurements at
// chosen moments (no clock, no PostgreSQL).

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>

#include "gateway/read_model_lag.hpp"
#include "projections/checkpoint_reads.hpp"

namespace cqrs::tests {

namespace {

using gateway::read_model_lag;
using namespace std::chrono_literals;

core::log_position at(std::uint64_t seq) { return core::log_position(100, seq); }

const read_model_lag::clock::time_point t0{};

}  // namespace

TEST_CASE("a model at the store's head is 0 events and 0 seconds behind") {
  read_model_lag lag;
  CHECK_FALSE(lag.of("catalog", t0).has_value());
  CHECK_FALSE(lag.header_value("catalog", t0).has_value());
  lag.record(t0, at(50), {{"catalog", at(50)}});
  const auto f = lag.of("catalog", t0 + 400ms);
  REQUIRE(f);
  CHECK(f->events == 0);
  CHECK(f->seconds == 0);
  CHECK_FALSE(f->at_least);
  CHECK(f->measured_ago == doctest::Approx(0.4));
  CHECK(*lag.header_value("catalog", t0 + 400ms) ==
        R"(model="catalog", events=0, seconds=0.0, measured_ago=0.4)");
}

TEST_CASE("seconds behind is how long ago the store's head was where the model is now") {
  read_model_lag lag;
  lag.record(t0, at(10), {{"catalog", at(10)}});
  lag.record(t0 + 1s, at(20), {{"catalog", at(12)}});  // the head passed 12 after t0: current as of t0
  auto f = lag.of("catalog", t0 + 1s);
  REQUIRE(f);
  CHECK(f->events == 8);
  CHECK(f->seconds == doctest::Approx(1.0));
  lag.record(t0 + 2s, at(30), {{"catalog", at(20)}});  // holds what the store held at t0 + 1 s
  f = lag.of("catalog", t0 + 2s);
  CHECK(f->events == 10);
  CHECK(f->seconds == doctest::Approx(1.0));
  // No measurement for 5 s (PostgreSQL away): the figures age.
  f = lag.of("catalog", t0 + 7s);
  CHECK(f->seconds == doctest::Approx(6.0));
  CHECK(f->measured_ago == doctest::Approx(5.0));
  lag.record(t0 + 8s, at(30), {{"catalog", at(30)}});
  CHECK(lag.of("catalog", t0 + 8s)->seconds == 0);
}

TEST_CASE("a model behind everything the monitor remembers is 'at least' that old") {
  read_model_lag lag(std::chrono::seconds{3});
  lag.record(t0, at(40), {{"detail", at(5)}});
  auto f = lag.of("detail", t0);
  CHECK(f->at_least);
  CHECK(f->events == 35);
  for (int s = 1; s <= 6; ++s) lag.record(t0 + std::chrono::seconds{s}, at(40 + s), {{"detail", at(5)}});
  f = lag.of("detail", t0 + 6s);
  CHECK(f->at_least);
  CHECK(f->seconds == doctest::Approx(3.0));  // the oldest sample kept
  CHECK(lag.header_value("detail", t0 + 6s)->ends_with(", at_least"));
}

TEST_CASE("the header goes on successful answers only") {
  read_model_lag lag;
  lag.record(read_model_lag::clock::now(), at(3), {{"catalog", at(2)}});
  gateway::http_response ok{200, {}, "{}"};
  lag.mark(ok, "catalog");
  REQUIRE(ok.headers.size() == 1);
  CHECK(ok.headers.front().first == "Read-Model-Lag");
  CHECK(ok.headers.front().second.starts_with(R"(model="catalog", events=1, seconds=)"));
  gateway::http_response missing{404, {}, "{}"};
  lag.mark(missing, "catalog");
  CHECK(missing.headers.empty());
  gateway::http_response unmeasured{200, {}, "{}"};
  lag.mark(unmeasured, "other");
  CHECK(unmeasured.headers.empty());
}

TEST_CASE("a model's position is its slowest partition not caught up with the relay") {
  using row = projections::projection_partition_state;
  const std::vector<row> rows{
      {"catalog", 0, at(30).token(), 7, 0.1, false, ""},
      {"catalog", 1, at(4).token(), 2, 0.1, true, ""},  // idle, caught up: at the relay's position
      {"catalog", 2, at(25).token(), 5, 0.1, false, ""},
      // Its last event at 3, caught up last when the relay was at 20: it holds everything through 20.
      {"catalog", 3, at(3).token(), 1, 0.1, false, at(20).token()},
      {"detail", -1, "", 0, 0, false, ""},  // nothing applied yet
  };
  const auto positions = gateway::model_positions(rows, at(40));
  CHECK(positions.at("catalog") == at(20));
  CHECK(positions.at("detail").is_beginning());
  CHECK(positions.size() == 2);
  // A projection whose projector never ran has no row at all: named, it counts from the beginning.
  const auto named = gateway::model_positions(rows, at(40), {"catalog", "never_ran"});
  CHECK(named.at("never_ran").is_beginning());
  CHECK(named.at("catalog") == at(20));
  CHECK(gateway::seq_distance(at(40), at(25)) == 15);
  CHECK(gateway::seq_distance(at(25), at(40)) == 0);
}

}  // namespace cqrs::tests
