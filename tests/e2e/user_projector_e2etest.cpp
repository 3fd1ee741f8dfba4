// User events through Kafka: a projector consuming the events topic (messages as the relay
// writes them) applies the User category to both user models like any other domain's, exactly
// once, and drops a forgotten user from both.

#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "projections/projector.hpp"
#include "tests/e2e/publish.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/redis/user_world.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using namespace std::chrono_literals;
using cqrs::tests::user_world;

namespace {

schemas::user_registered registered(int n) {
  return schemas::user_registered{schemas::sealed_text(fmt::format("v1:mail-{}", n)),
                                  schemas::blind_index(fmt::format("{:064x}", n)), schemas::password_hash("$argon2id$h"),
                                  schemas::sealed_text("v1:name"), schemas::sealed_text(""), schemas::sealed_text(""),
                                  {schemas::user_role("customer")}};
}

// Polls the projector until `done` holds or 30 s pass.
template <typename Done>
bool poll_until(projections::projector& projector, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    projector.poll_once(100ms);
    if (done()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a projector applies published user events to both user models once, and drops a forgotten user") {
  user_world world("e2euser");
  std::vector<core::recorded_event> events;
  std::vector<std::string> ids;
  for (int n = 0; n < 6; ++n) {
    ids.push_back(fmt::format("u{}", n));
    auto life = world.append(ids.back(), {registered(n), schemas::user_role_granted{schemas::user_role("support")}});
    events.insert(events.end(), life.begin(), life.end());
  }
  auto gone = world.append("u0", {schemas::user_forgotten{"request"}});
  events.insert(events.end(), gone.begin(), gone.end());
  tests::publish(events);
  tests::publish(events);  // a redelivery changes nothing

  projections::projector_config config;
  config.bootstrap = tests::kafka_bootstrap();
  config.topic = tests::events_topic();
  config.group = "users_" + tests::run_id();
  config.pg_url = tests::pg_url();
  config.commit_interval = 200ms;
  user_world consumer("e2euser");
  projections::projector projector(config, consumer.targets(), core::logger("projector", core::log_level::error));
  const auto applied_everywhere = [&] {
    for (std::size_t n = 1; n < ids.size(); ++n) {
      const auto detail = world.detail_of(ids[n]);
      if (!detail || detail->at("version") != "2") return false;
      if (world.list().applied_version(world.stream(ids[n])).value() != 2) return false;
    }
    return world.list().applied_version(world.stream("u0")).value() == 3;
  };
  REQUIRE(poll_until(projector, applied_everywhere));
  for (int i = 0; i < 30; ++i) projector.poll_once(20ms);  // drain the re-sent copies
  projector.commit();

  CHECK_FALSE(world.detail_of("u0"));
  const auto rows = world.page({});
  CHECK(rows.size() == ids.size() - 1);
  for (const auto& row : rows) {
    CAPTURE(row.user_id);
    CHECK(row.roles == std::vector<std::string>{"customer", "support"});
    CHECK(row.version == 2);
  }
  // Each event took effect once in each of the two models; the copies were duplicates.
  CHECK(projector.stats().counts.applied == 2 * events.size());
}
