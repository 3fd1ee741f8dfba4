// gateway::read_routing: where read-model reads and read-your-writes checks go in each state, and
// what its metrics count (gateway/read_replica.hpp has the argument for the three states).

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "core/metrics.hpp"
#include "gateway/read_replica.hpp"

namespace cqrs::gateway {
namespace {

double value_of(const core::metrics_registry& registry, const std::string& series) {
  const auto text = registry.render();
  const auto at = text.find("\n" + series + " ");
  REQUIRE(at != std::string::npos);
  return std::stod(text.substr(at + series.size() + 2));
}

TEST_CASE("read_routing starts on the primary until the monitor has proven the replica") {
  core::metrics_registry registry;
  read_routing routing(registry, std::chrono::milliseconds{1000});
  CHECK(routing.current() == read_routing::state::bypassed);
  CHECK_FALSE(routing.reads_on_replica());
  CHECK_FALSE(routing.checks_on_replica());
  CHECK(value_of(registry, "cqrs_read_replica_bypassed_reads_total") == 2);
  CHECK(value_of(registry, "cqrs_read_replica_state") == 2);
}

TEST_CASE("read_routing returning: checks on the replica while reads stay on the primary") {
  core::metrics_registry registry;
  read_routing routing(registry, std::chrono::milliseconds{1000});
  routing.move_to(read_routing::state::returning);
  CHECK(routing.checks_on_replica());
  CHECK_FALSE(routing.reads_on_replica());
  CHECK(value_of(registry, "cqrs_read_replica_state") == 1);
  routing.move_to(read_routing::state::replica);
  CHECK(routing.checks_on_replica());
  CHECK(routing.reads_on_replica());
  CHECK(value_of(registry, "cqrs_read_replica_state") == 0);
}

TEST_CASE("read_routing: a replica that fails a read is bypassed at once, counted once per departure") {
  core::metrics_registry registry;
  read_routing routing(registry, std::chrono::milliseconds{1000});
  routing.move_to(read_routing::state::replica);
  routing.replica_failed();
  CHECK(routing.current() == read_routing::state::bypassed);
  CHECK_FALSE(routing.checks_on_replica());
  routing.replica_failed();  // already bypassed: no second departure
  CHECK(value_of(registry, "cqrs_read_replica_bypasses_total") == 1);
}

}  // namespace
}  // namespace cqrs::gateway
