#include <atomic>
#include <thread>

#include <doctest/doctest.h>

#include "projections/product/product_projections.hpp"
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

namespace {

// Every kind of Product event, an event type no projection knows, and stock moves in any order.
std::vector<std::string> seed_every_kind(projection_world& world, int products) {
  std::vector<std::string> ids;
  for (int p = 0; p < products; ++p) {
    ids.push_back("k" + std::to_string(p));
    std::vector<schemas::product_event> events{tests::created("SKU-K" + std::to_string(p), p, 100 + p),
                                               tests::restocked(7), tests::reserved("r1", 2)};
    if (p % 2 == 0) events.push_back(schemas::product_price_changed{schemas::money{999, schemas::currency_code("USD")}});
    if (p % 3 == 0) events.push_back(schemas::product_details_updated{"Renamed \"" + ids.back() + "\"", "tab\there"});
    events.push_back(p % 4 == 0 ? schemas::product_event{tests::committed("r1", 2)}
                                : schemas::product_event{tests::released("r1", 2)});
    if (p % 5 == 0) events.push_back(schemas::product_discontinued{"gone"});
    auto applied = world.append(ids.back(), events);
    const auto unknown = world.store().append(world.stream(ids.back()), core::expected_version::any(),
                                              {core::new_event{"product.noted", 1, "{\"note\":1}", std::nullopt}});
    REQUIRE(unknown.ok());
    auto rest = world.append(ids.back(), {tests::restocked(1)});
    applied.push_back(world.whole_stream(ids.back()).at(applied.back().version.value()));
    applied.insert(applied.end(), rest.begin(), rest.end());
    world.detail().apply(applied);
    world.catalog().apply(applied);
  }
  return ids;
}

}  // namespace

TEST_CASE("the bulk rebuild of both projections from one read equals the event-by-event models") {
  projection_world world("bulk");
  const auto ids = seed_every_kind(world, 24);
  const auto redis_before = world.redis_digest(ids);
  const auto pg_before = world.pg_digest(ids);
  projections::projection_target* const both[] = {&world.detail(), &world.catalog()};
  REQUIRE(world.detail().start_build("probe") != nullptr);
  REQUIRE(world.catalog().start_build("probe") != nullptr);
  const auto reports = projections::rebuild_all(both, world.store(), batches_of(16));
  REQUIRE(reports.size() == 2);
  std::size_t stored = 0;
  for (const auto& id : ids) stored += world.whole_stream(id).size();
  for (const auto& report : reports) {
    CHECK(report.new_model != report.old_model);
    CHECK(report.events == stored);
  }
  CHECK(world.detail().live_model() == reports[0].new_model);
  CHECK(world.catalog().live_model() == reports[1].new_model);
  CHECK(world.redis_digest(ids) == redis_before);
  CHECK(world.pg_digest(ids) == pg_before);
  // The applied versions were written with the model: redeliveries change nothing, and the
  // event-by-event path goes on from them.
  for (const auto& id : ids) {
    const auto stream = world.stream(id);
    CHECK(world.detail().applied_version(stream) == world.store().current_version(stream));
    CHECK(world.catalog().applied_version(stream) == world.store().current_version(stream));
  }
  const auto history = world.whole_stream(ids[3]);
  CHECK(world.detail().apply(history).duplicates == history.size());
  CHECK(world.catalog().apply(history).duplicates == history.size());
  const auto more = world.append(ids[3], {tests::restocked(5)});
  CHECK(world.detail().apply(more).applied == 1);
  CHECK(world.catalog().apply(more).applied == 1);
  const auto redis_after = world.redis_digest(ids);
  const auto pg_after = world.pg_digest(ids);
  CHECK(redis_after != redis_before);
  projections::rebuild_all(both, world.store(), {});
  CHECK(world.redis_digest(ids) == redis_after);
  CHECK(world.pg_digest(ids) == pg_after);
}

TEST_CASE("one rebuild of projections over two categories builds each model from its own category") {
  projection_world left("twocat_a");
  projection_world right("twocat_b");
  const auto left_ids = seed(left, 6, true);
  const auto right_ids = seed(right, 4, true);
  // The same product ids in both categories, with other stock on the right: a mix-up shows.
  for (const auto& id : right_ids) {
    const auto more = right.append(id, {tests::restocked(5)});
    right.detail().apply(more);
    right.catalog().apply(more);
  }
  const auto left_before = left.redis_digest(left_ids) + left.pg_digest(left_ids);
  const auto right_before = right.redis_digest(right_ids) + right.pg_digest(right_ids);
  REQUIRE(left_before != right_before);
  projections::projection_target* const all[] = {&left.detail(), &right.detail(), &left.catalog(), &right.catalog()};
  const auto reports = projections::rebuild_all(all, left.store(), batches_of(5));
  REQUIRE(reports.size() == 4);
  CHECK(reports[0].projection == left.detail_name());
  CHECK(reports[0].events == 6 * 4);
  CHECK(reports[1].events == 4 * 5);
  CHECK(reports[2].events == 6 * 4);
  CHECK(reports[3].events == 4 * 5);
  CHECK(left.redis_digest(left_ids) + left.pg_digest(left_ids) == left_before);
  CHECK(right.redis_digest(right_ids) + right.pg_digest(right_ids) == right_before);
}

TEST_CASE("the store's COPY read yields the same events as its batched read") {
  projection_world world("copyread");
  seed(world, 12, false);
  std::vector<core::recorded_event> batched, copied;
  (void)world.store()
      .for_each_log_batch(world.category(), {}, 5,
                          [&](const core::log_batch& b) { batched.insert(batched.end(), b.events.begin(), b.events.end()); })
      .value();
  const auto end = world.store().copy_log(world.category(), {}, 7, [&](const core::log_batch& b) {
    CHECK(b.events.size() <= 7);
    CHECK(b.next == b.events.back().position);
    copied.insert(copied.end(), b.events.begin(), b.events.end());
  });
  REQUIRE(end.ok());
  REQUIRE(copied.size() == batched.size());
  CHECK(end.value() == batched.back().position);
  for (std::size_t i = 0; i < copied.size(); ++i) {
    const auto& a = copied[i];
    const auto& b = batched[i];
    CHECK(a.position == b.position);
    CHECK(a.stream == b.stream);
    CHECK(a.version == b.version);
    CHECK(a.id == b.id);
    CHECK(a.type == b.type);
    CHECK(a.schema_version == b.schema_version);
    CHECK(a.payload == b.payload);
    CHECK(a.metadata.actor == b.metadata.actor);
    CHECK(a.metadata.command_id == b.metadata.command_id);
    CHECK(a.recorded_at == b.recorded_at);
  }
  // From a position on; a handler that throws stops the read and leaves the store usable.
  std::size_t after_third = 0;
  (void)world.store().copy_log(world.category(), batched[2].position, 100, [&](const core::log_batch& b) {
    after_third += b.events.size();
  }).value();
  CHECK(after_third == batched.size() - 3);
  CHECK_THROWS(world.store().copy_log(world.category(), {}, 2, [](const core::log_batch&) { throw std::runtime_error("stop"); }));
  CHECK(world.store().current_version(batched.front().stream).value() == 4);
}
