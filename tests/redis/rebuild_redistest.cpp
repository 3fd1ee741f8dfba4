#include <atomic>
#include <thread>

#include <doctest/doctest.h>

#include "projections/product_projections.hpp"
#include "projections/rebuild.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using cqrs::tests::projection_world;

namespace {

std::vector<std::string> seed(projection_world& world, int products, bool apply) {
  std::vector<std::string> ids;
  for (int p = 0; p < products; ++p) {
    ids.push_back("p" + std::to_string(p));
    const auto events = world.append(ids.back(), {tests::created("SKU-" + ids.back(), p), tests::restocked(3),
                                                  tests::reserved("r", 1), tests::released("r", 1)});
    if (!apply) continue;
    world.detail().apply(events);
    world.catalog().apply(events);
  }
  return ids;
}

projections::rebuild_options batches_of(std::size_t batch) {
  projections::rebuild_options options;
  options.batch = batch;
  return options;
}

}  // namespace

TEST_CASE("incrementally built read models equal a fresh rebuild of the same history") {
  projection_world world("rebuild");
  const auto ids = seed(world, 30, true);
  const auto redis_before = world.redis_digest(ids);
  const auto pg_before = world.pg_digest(ids);
  for (auto* target : {&world.detail(), &world.catalog()}) {
    const auto old_model = target->live_model();
    const auto report = projections::rebuild(*target, world.store(), batches_of(7));
    CHECK(report.old_model == old_model);
    CHECK(target->live_model() == report.new_model);
    CHECK(report.events == 120);
  }
  CHECK(world.redis_digest(ids) == redis_before);
  CHECK(world.pg_digest(ids) == pg_before);
  CHECK(world.redis().command({"EXISTS", world.detail().info().initial_model() + ":product:p1"}).integer == 0);
}

TEST_CASE("an interrupted rebuild leaves the live model untouched and can run again") {
  projection_world world("interrupt");
  const auto ids = seed(world, 10, true);
  const auto before = world.redis_digest(ids);
  for (auto* target : {&world.detail(), &world.catalog()}) {
    const auto live = target->live_model();
    auto options = batches_of(5);
    options.on_progress = [](const projections::rebuild_progress& p) {
      if (p.events >= 10) throw std::runtime_error("killed");
    };
    CHECK_THROWS(projections::rebuild(*target, world.store(), options));
    CHECK(target->live_model() == live);
    CHECK(projections::rebuild(*target, world.store(), {}).events == 40);
  }
  CHECK(world.redis_digest(ids) == before);
}

TEST_CASE("during a rebuild with concurrent writes no read fails or sees a half-built model") {
  projection_world world("online");
  const auto ids = seed(world, 40, true);
  std::atomic<bool> done = false;
  std::atomic<int> bad_reads = 0;
  std::atomic<int> reads = 0;
  std::thread writer([&] {
    projection_world same("online");
    for (int round = 0; !done; ++round) {
      const auto id = ids[round % ids.size()];
      const auto events = same.append(id, {tests::restocked(1)});
      same.detail().apply(events);
      same.catalog().apply(events);
    }
  });
  std::thread reader([&] {
    projections::redis_client client(tests::redis_url());
    while (!done) {
      for (const auto& id : ids) {
        const auto d = projections::read_product_detail(client, id, world.detail_name());
        ++reads;
        const bool sane =
            d && std::stoll(d->at("available")) == std::stoll(d->at("on_hand")) - std::stoll(d->at("reserved"));
        if (!sane) ++bad_reads;
      }
    }
  });
  projection_world rebuilder("online");
  projections::rebuild(rebuilder.detail(), rebuilder.store(), batches_of(20));
  projections::rebuild(rebuilder.catalog(), rebuilder.store(), batches_of(20));
  done = true;
  writer.join();
  reader.join();
  CHECK(reads > 0);
  CHECK(bad_reads == 0);
  // The writer's last applies went to the new live model; a fresh rebuild agrees with it.
  const auto live = world.redis_digest(ids);
  const auto live_pg = world.pg_digest(ids);
  projections::rebuild(rebuilder.detail(), rebuilder.store(), {});
  projections::rebuild(rebuilder.catalog(), rebuilder.store(), {});
  CHECK(world.redis_digest(ids) == live);
  CHECK(world.pg_digest(ids) == live_pg);
}
