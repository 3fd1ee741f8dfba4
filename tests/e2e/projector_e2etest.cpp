#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "projections/dead_letters.hpp"
#include "projections/product/product_projections.hpp"
#include "projections/projector.hpp"
#include "projections/read_your_writes.hpp"
#include "projections/rebuild.hpp"
#include "projections/redis_target.hpp"
#include "tests/e2e/publish.hpp"
#include "tests/kafka/kafka_client.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/stack.hpp"

using namespace cqrs;
using namespace std::chrono_literals;
using cqrs::tests::projection_world;

namespace {

projections::projector_config config_for(const std::string& group) {
  projections::projector_config config;
  config.bootstrap = tests::kafka_bootstrap();
  config.topic = tests::events_topic();
  config.group = group + "_" + tests::run_id();
  config.pg_url = tests::pg_url();
  config.commit_interval = 200ms;
  return config;
}

core::logger quiet() { return core::logger("projector", core::log_level::error); }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The value of the series `name{projection="<projection>"}` in Prometheus text; none if absent.
std::optional<double> metric(const std::string& text, const std::string& name, const std::string& projection) {
  const auto series = fmt::format("{}{{projection=\"{}\"}} ", name, projection);
  const auto at = text.find(series);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + series.size(), text.find('\n', at) - at - series.size()));
}

std::vector<std::string> seed(projection_world& world, int from, int to, std::vector<core::recorded_event>& out) {
  std::vector<std::string> ids;
  for (int p = from; p < to; ++p) {
    ids.push_back("p" + std::to_string(p));
    auto events = world.append(ids.back(), {tests::created("SKU-" + ids.back(), p), tests::reserved("r", 1),
                                            tests::committed("r", 1), tests::restocked(2)});
    out.insert(out.end(), events.begin(), events.end());
  }
  return ids;
}

// Whether every listed product shows `version` in the Redis model.
bool in_redis(projection_world& world, const std::vector<std::string>& ids, const std::string& version) {
  for (const auto& id : ids) {
    const auto d = projections::read_product_detail(world.redis(), id, world.detail_name());
    if (!d || d->at("version") != version) return false;
  }
  return true;
}

// Polls until every listed product shows its last version in both models, or 30 s pass.
bool wait_until_applied(const std::function<void()>& poll, projection_world& world, const std::vector<std::string>& ids,
                        const std::string& version) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (poll) {
      poll();
    } else {
      std::this_thread::sleep_for(10ms);  // another thread polls: leave it the CPU
    }
    bool all = true;
    for (const auto& id : ids) {
      const auto d = projections::read_product_detail(world.redis(), id, world.detail_name());
      all = all && d && d->at("version") == version &&
            world.catalog().applied_version(world.stream(id)).value() == std::stoll(version);
      if (!all) break;
    }
    if (all) return true;
  }
  return false;
}

void rebuild_both(projection_world& world) {
  projections::rebuild(world.detail(), world.store(), {});
  projections::rebuild(world.catalog(), world.store(), {});
}

// As a Redis restarted without persistence: the detail model's keys and its live pointer are gone.
void empty_detail_model(projection_world& world) {
  const auto model = world.detail().live_model();
  for (const auto& key : world.redis().checked({"KEYS", model + ":*"}).elements) {
    world.redis().checked({"DEL", key.text});
  }
  world.redis().checked({"DEL", projections::redis_live_pointer_key(world.detail_name())});
}

// Publishes one more event of the busy stream only, polls until the projector reports a lost
// model (20 s at most), then checks that the quiet stream came back from the event store.
void bump_busy_and_check_recovered(projection_world& world, projections::projector& projector) {
  tests::publish(world.append("busy", {tests::restocked(1)}));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (projector.stats().lost_models == 0 && std::chrono::steady_clock::now() < deadline) {
    projector.poll_once(100ms);
  }
  CHECK(projector.stats().lost_models == 1);
  const auto restored = projections::read_product_detail(world.redis(), "quiet", world.detail_name());
  REQUIRE(restored.has_value());
  CHECK(restored->at("on_hand") == "7");
  CHECK(world.detail().applied_version(world.stream("busy")).value() == 3);
}

}  // namespace

TEST_CASE("a projector applies published events once, whatever is sent twice, and equals a rebuild") {
  projection_world world("e2eonce");
  std::vector<core::recorded_event> events;
  const auto ids = seed(world, 0, 20, events);
  tests::publish(events);
  tests::publish(events);
  projection_world consumer("e2eonce");
  projections::projector projector(config_for("once"), consumer.targets(), quiet());
  REQUIRE(wait_until_applied([&] { projector.poll_once(100ms); }, world, ids, "4"));
  for (int i = 0; i < 50; ++i) projector.poll_once(20ms);  // drain the re-sent copies
  projector.commit();
  CHECK(projector.stats().counts.applied == 2 * events.size());
  const auto redis_live = world.redis_digest(ids);
  const auto pg_live = world.pg_digest(ids);
  rebuild_both(world);
  CHECK(world.redis_digest(ids) == redis_live);
  CHECK(world.pg_digest(ids) == pg_live);
}

TEST_CASE("one projector keeps the projections of two categories, each fed its own category only") {
  projection_world left("e2etwocat_a");
  projection_world right("e2etwocat_b");
  std::vector<core::recorded_event> events;
  const auto left_ids = seed(left, 0, 5, events);
  const auto right_ids = seed(right, 0, 3, events);  // p0..p2 in both categories
  for (const auto& id : right_ids) {
    const auto more = right.append(id, {tests::restocked(5)});
    events.insert(events.end(), more.begin(), more.end());
  }
  tests::publish(events);
  auto both = projections::default_projections(left.scope());
  auto more = projections::default_projections(right.scope());
  std::move(more.redis.begin(), more.redis.end(), std::back_inserter(both.redis));
  std::move(more.postgres.begin(), more.postgres.end(), std::back_inserter(both.postgres));
  projections::target_set targets(both, left.redis(), left.store(), tests::pg_url());
  projections::projector projector(config_for("twocat"), targets, quiet());
  const auto poll = [&] { projector.poll_once(100ms); };
  REQUIRE(wait_until_applied(poll, left, left_ids, "4"));
  REQUIRE(wait_until_applied(poll, right, right_ids, "5"));
  CHECK_FALSE(projections::read_product_detail(right.redis(), "p4", right.detail_name()).has_value());
  CHECK(projections::read_product_detail(left.redis(), "p0", left.detail_name()).value().at("on_hand") == "1");
  CHECK(projections::read_product_detail(right.redis(), "p0", right.detail_name()).value().at("on_hand") == "6");
  CHECK(projector.stats().counts.applied == 2 * events.size());
}

TEST_CASE("events missing from the topic are read from the event store, never skipped") {
  projection_world world("e2egap");
  std::vector<core::recorded_event> events;
  const auto ids = seed(world, 0, 5, events);
  std::vector<core::recorded_event> last_only;
  for (const auto& e : events) {
    if (e.version.value() == 4) last_only.push_back(e);
  }
  tests::publish(last_only);  // as if retention had dropped versions 1..3
  projection_world consumer("e2egap");
  projections::projector projector(config_for("gap"), consumer.targets(), quiet());
  REQUIRE(wait_until_applied([&] { projector.poll_once(100ms); }, world, ids, "4"));
  CHECK(projector.stats().counts.filled == 2 * 3 * ids.size());
  const auto live = world.redis_digest(ids);
  rebuild_both(world);
  CHECK(world.redis_digest(ids) == live);
}

namespace {

// Waits until two projectors of one group both hold partitions: rounds of probes (one more event
// on each of `probes` streams, whose keys spread them over the partitions) are published until,
// in one round, each projector applies some of them. Returns whether that happened in time.
bool both_hold_partitions(projection_world& world, const std::function<double()>& a_applied,
                          const std::function<double()>& b_applied) {
  constexpr int probes = 24;
  std::vector<std::string> ids;
  std::vector<core::recorded_event> created;
  for (int i = 0; i < probes; ++i) {
    ids.push_back("probe" + std::to_string(i));
    const auto events = world.append(ids.back(), {tests::created("SKU-PROBE-" + std::to_string(i), 1)});
    created.insert(created.end(), events.begin(), events.end());
  }
  tests::publish(created);
  if (!wait_until_applied({}, world, ids, "1")) return false;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  for (int version = 2; std::chrono::steady_clock::now() < deadline; ++version) {
    const double a_before = a_applied();
    const double b_before = b_applied();
    std::vector<core::recorded_event> round;
    for (const auto& id : ids) {
      const auto events = world.append(id, {tests::restocked(1)});
      round.insert(round.end(), events.begin(), events.end());
    }
    tests::publish(round);
    if (!wait_until_applied({}, world, ids, std::to_string(version))) return false;
    // The counters follow the models by a poll at most.
    if (tests::eventually([&] { return a_applied() > a_before && b_applied() > b_before; }, 5s)) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("two projectors in one group split the partitions and a survivor takes over a dead one's") {
  projection_world world("e2egroup");
  std::atomic<bool> a_dead = false;
  std::atomic<bool> stop = false;
  std::atomic<std::uint64_t> a_applied = 0;
  core::metrics_registry b_registry;  // read while b runs: its series are atomics
  const auto b_applied = [&] {
    return metric(b_registry.render(), "cqrs_projection_events_applied_total", world.detail_name()).value_or(0.0);
  };
  const auto group = config_for("group");
  std::thread a([&] {
    projection_world mine("e2egroup");
    projections::projector p(group, mine.targets(), quiet());
    while (!a_dead) {
      p.poll_once(50ms);
      a_applied = p.stats().counts.applied;
    }
    // Dies without committing what it applied last: the survivor gets those messages again.
  });
  std::thread b([&] {
    projection_world mine("e2egroup");
    projections::projector p(group, mine.targets(), quiet(), b_registry);
    p.run(stop);
  });
  const auto end_both = [&] {
    a_dead = true;
    stop = true;
    if (a.joinable()) a.join();
    if (b.joinable()) b.join();
  };
  // Whatever fails below, both threads end before the test does.
  struct on_scope_exit {
    const std::function<void()> run;
    ~on_scope_exit() { run(); }
  } const ending{end_both};
  // Both joined: the partitions are split between them.
  REQUIRE(both_hold_partitions(world, [&] { return static_cast<double>(a_applied.load()); }, b_applied));
  const auto a_before_kill = a_applied.load();
  const auto b_before_kill = b_applied();
  std::vector<core::recorded_event> first;
  const auto ids1 = seed(world, 0, 30, first);
  tests::publish(first);
  CHECK(wait_until_applied({}, world, ids1, "4"));
  a_dead = true;
  a.join();
  std::vector<core::recorded_event> second;
  const auto ids2 = seed(world, 30, 60, second);
  tests::publish(second);
  const bool all_applied = wait_until_applied({}, world, ids2, "4");
  const auto b_after_kill = b_applied();
  end_both();
  REQUIRE(all_applied);
  CHECK(a_applied > a_before_kill);  // the partitions were split for the first products too
  CHECK(b_after_kill > b_before_kill);
  auto ids = ids1;
  ids.insert(ids.end(), ids2.begin(), ids2.end());
  const auto redis_live = world.redis_digest(ids);
  const auto pg_live = world.pg_digest(ids);
  rebuild_both(world);
  CHECK(world.redis_digest(ids) == redis_live);
  CHECK(world.pg_digest(ids) == pg_live);
}

namespace {

// A projection that cannot apply one event until "fixed": a poison event with a cure.
class flaky_projection final : public projections::redis_projection {
 public:
  flaky_projection(std::string category, std::string name) : inner_(std::move(category), std::move(name)) {}
  const projections::projection_info& info() const override { return inner_.info(); }
  std::vector<projections::redis_op> changes(const core::recorded_event& event) const override {
    if (broken && event.stream.str().ends_with("-poison") && event.version.value() == 2) {
      throw projections::handler_error(event, "cannot apply this yet");
    }
    return inner_.changes(event);
  }
  std::atomic<bool> broken = true;

 private:
  projections::product_detail_projection inner_;
};

}  // namespace

TEST_CASE("a poison event goes to dead letters, the rest keeps flowing, and a retry applies it once fixed") {
  projection_world world("e2epoison");
  std::vector<core::recorded_event> events;
  const auto poison =
      world.append("poison", {tests::created("SKU-poison", 1), tests::restocked(10), tests::restocked(100)});
  events.insert(events.end(), poison.begin(), poison.end());
  const auto ids = seed(world, 0, 5, events);
  tests::publish(events);

  projections::redis_client redis(tests::redis_url());
  // A set holding only the flaky projection: a new projection needs no runtime change.
  projections::projection_set only;
  auto holder = std::make_unique<flaky_projection>(world.category(), world.detail_name());
  auto* flaky_ptr = holder.get();
  only.redis.push_back(std::move(holder));
  const projections::target_set flaky_targets(only, redis, world.store(), tests::pg_url());
  projections::projector projector(config_for("poison"), flaky_targets, quiet());
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (projector.stats().counts.applied < 22 && std::chrono::steady_clock::now() < deadline)
    projector.poll_once(100ms);
  CHECK(projector.stats().dead_lettered == 1);
  const auto after = projections::read_product_detail(redis, "poison", world.detail_name()).value();
  CHECK(after.at("on_hand") == "101");  // version 3 applied, version 2 not
  CHECK(after.at("version") == "3");

  projections::dead_letter_store letters(tests::pg_url());
  const auto open = letters.list(world.detail_name(), true);
  REQUIRE(open.size() == 1);
  CHECK(open[0].stream_version == 2);
  std::string error;
  CHECK(letters.retry(open[0].id, *flaky_targets.all().front(), world.store(), error) ==
        projections::retry_outcome::still_failing);
  flaky_ptr->broken = false;
  CHECK(letters.retry(open[0].id, *flaky_targets.all().front(), world.store(), error) ==
        projections::retry_outcome::applied);
  CHECK(letters.retry(open[0].id, *flaky_targets.all().front(), world.store(), error) ==
        projections::retry_outcome::not_open);
  CHECK(projections::read_product_detail(redis, "poison", world.detail_name()).value().at("on_hand") == "111");
}

namespace {

int topic_partitions() {
  tests::kafka::delivery_tally tally;
  const auto producer = tests::kafka::make_producer(tests::kafka_bootstrap(), tally);
  const auto metadata = tests::kafka::fetch_metadata(producer.get());
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (metadata->topics[i].topic == tests::events_topic()) return metadata->topics[i].partition_cnt;
  }
  return 0;
}

bool applied_through(const projections::read_your_writes_source& source, core::log_position position) {
  pqxx::connection connection(tests::pg_url());
  pqxx::work tx(connection);
  return projections::has_applied_through(tx, source, position);
}

}  // namespace

TEST_CASE("read-your-writes: a position counts only once every partition has passed it or is idle") {
  projection_world world("e2eryw");
  std::vector<core::recorded_event> events;
  seed(world, 0, 3, events);
  const auto last = events.back().position;
  const projections::read_your_writes_source source{world.detail_name(), "ryw_" + tests::run_id(),
                                                    tests::events_topic(), topic_partitions()};
  REQUIRE(source.partitions > 0);
  {
    pqxx::connection connection(tests::pg_url());
    pqxx::work tx(connection);
    tx.exec_params("INSERT INTO relay_checkpoints (relay_name, topic, xid, seq) VALUES ($1, $2, $3::text::xid8, $4)",
                   source.relay_name, source.topic, std::to_string(last.xid()), static_cast<std::int64_t>(last.seq()));
    tx.commit();
  }
  CHECK_FALSE(applied_through(source, last));
  tests::publish(events);
  projection_world consumer("e2eryw");
  projections::projector projector(config_for("ryw"), consumer.targets(), quiet());
  bool reached = false;
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  while (!reached && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 20; ++i) projector.poll_once(20ms);
    projector.commit();
    reached = applied_through(source, last);
  }
  CHECK(reached);
  CHECK(projections::read_product_detail(world.redis(), "p2", world.detail_name()).value().at("version") == "4");
  // Past what the relay has published: never applied yet, whatever the partitions say.
  CHECK_FALSE(applied_through(source, core::log_position(last.xid(), last.seq() + 1)));
}

TEST_CASE("PostgreSQL models gather polls: Redis shows events at once, the catalog and its offsets wait for them") {
  projection_world world("e2egather");
  std::vector<core::recorded_event> events;
  const auto ids = seed(world, 0, 4, events);
  const auto last = events.back().position;
  const projections::read_your_writes_source catalog_source{world.catalog_name(), "gather_" + tests::run_id(),
                                                            tests::events_topic(), topic_partitions()};
  {
    pqxx::connection connection(tests::pg_url());
    pqxx::work tx(connection);
    tx.exec_params("INSERT INTO relay_checkpoints (relay_name, topic, xid, seq) VALUES ($1, $2, $3::text::xid8, $4)",
                   catalog_source.relay_name, catalog_source.topic, std::to_string(last.xid()),
                   static_cast<std::int64_t>(last.seq()));
    tx.commit();
  }
  tests::publish(events);
  auto gathering = config_for("gather");
  gathering.postgres_gather = 1h;  // never due by time here: only apply_gathered() or max_batch apply
  {
    projection_world consumer("e2egather");
    projections::projector first(gathering, consumer.targets(), quiet());
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!in_redis(world, ids, "4") && std::chrono::steady_clock::now() < deadline) first.poll_once(50ms);
    REQUIRE(in_redis(world, ids, "4"));
    first.commit();
    for (const auto& id : ids) CHECK(world.catalog().applied_version(world.stream(id)).value() == 0);
    // Consumed but not applied: the catalog's partitions count neither as passed nor as idle.
    CHECK_FALSE(applied_through(catalog_source, last));
    // Dropped while gathering: the revocation commits nothing of what the catalog has not applied.
  }
  projection_world consumer("e2egather");
  projections::projector second(gathering, consumer.targets(), quiet());
  // The group gets the same messages again: Redis sees duplicates, the catalog gathers them.
  REQUIRE(wait_until_applied([&] {
    second.poll_once(50ms);
    if (second.stats().counts.duplicates >= events.size()) second.apply_gathered();
  }, world, ids, "4"));
  CHECK(second.stats().counts.applied == events.size());  // the catalog's, once each
  bool reached = false;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!reached && std::chrono::steady_clock::now() < deadline) {
    second.poll_once(20ms);
    second.commit();
    reached = applied_through(catalog_source, last);
  }
  CHECK(reached);
  const auto pg_live = world.pg_digest(ids);
  rebuild_both(world);
  CHECK(world.pg_digest(ids) == pg_live);
}

TEST_CASE("a projector asked to stop applies what its PostgreSQL models gathered before its last commit") {
  projection_world world("e2egatherstop");
  std::vector<core::recorded_event> events;
  const auto ids = seed(world, 0, 3, events);
  tests::publish(events);
  auto gathering = config_for("gatherstop");
  gathering.postgres_gather = 1h;  // only the stop applies what was gathered
  projection_world consumer("e2egatherstop");
  std::atomic<bool> stop = false;
  std::thread running;
  {
    projections::projector projector(gathering, consumer.targets(), quiet());
    running = std::thread([&] { projector.run(stop); });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!in_redis(world, ids, "4") && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    CHECK(in_redis(world, ids, "4"));
    for (const auto& id : ids) CHECK(world.catalog().applied_version(world.stream(id)).value() == 0);
    stop = true;
    running.join();
  }
  for (const auto& id : ids) CHECK(world.catalog().applied_version(world.stream(id)).value() == 4);
  // Committed with the catalog applied: the group has nothing left to deliver. One more event on
  // each stream, published now, shows where the group's next consumer starts: once it has applied
  // them, it has passed everything before them on their partitions, and got nothing of it again.
  projection_world again("e2egatherstop");
  projections::projector next(config_for("gatherstop"), again.targets(), quiet());
  std::vector<core::recorded_event> markers;
  for (const auto& id : ids) {
    const auto more = world.append(id, {tests::restocked(1)});
    markers.insert(markers.end(), more.begin(), more.end());
  }
  tests::publish(markers);
  REQUIRE(wait_until_applied([&] { next.poll_once(50ms); }, world, ids, "5"));
  CHECK(next.stats().counts.applied == 2 * markers.size());  // the markers alone, once in each model
  CHECK(next.stats().counts.duplicates == 0);
}

TEST_CASE("the projector writes its counters and lag per projection as Prometheus text") {
  projection_world world("e2emetrics");
  std::vector<core::recorded_event> events;
  const auto ids = seed(world, 0, 5, events);
  tests::publish(events);
  projection_world consumer("e2emetrics");
  auto config = config_for("metrics");
  config.metrics_file = "/tmp/cqrs-projector-metrics-" + tests::run_id() + ".prom";
  projections::projector projector(config, consumer.targets(), quiet());
  REQUIRE(wait_until_applied([&] { projector.poll_once(100ms); }, world, ids, "4"));
  projector.report_metrics();
  const auto text = read_text(config.metrics_file);
  std::filesystem::remove(config.metrics_file);
  for (const auto& name : {world.detail_name(), world.catalog_name()}) {
    CAPTURE(name);
    CHECK(metric(text, "cqrs_projection_events_applied_total", name) == static_cast<double>(events.size()));
    CHECK(metric(text, "cqrs_projection_events_dead_lettered_total", name) == 0.0);
    const auto lag = metric(text, "cqrs_projection_lag_events", name);
    REQUIRE(lag.has_value());
    CHECK(*lag >= 0.0);  // other tests' messages on the shared topic may still be ahead
    const auto seconds = metric(text, "cqrs_projection_lag_seconds", name);
    REQUIRE(seconds.has_value());
    CHECK(*seconds >= 0.0);
    CHECK(*seconds < 600.0);
  }
  CHECK(text.find("# TYPE cqrs_projection_events_applied_total counter") != std::string::npos);
}

namespace {

// Starts a projector of a new group at the latest offset, past everything published so far, and
// keeps the busy stream going (its messages are what the consumer sees, past the jump) until the
// quiet stream, which gets no more events, is at `version` in both models with 7 on hand, caught
// up from the event store.
void check_latest_group_catches_up(projection_world& world, const std::string& prefix, const std::string& group,
                                   std::int64_t version) {
  auto config = config_for(group);
  config.kafka_properties = {{"auto.offset.reset", "latest"}};
  projection_world consumer(prefix);
  projections::projector projector(config, consumer.targets(), quiet());
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  bool applied = false;
  while (!applied && std::chrono::steady_clock::now() < deadline) {
    tests::publish(world.append("busy", {tests::restocked(1)}));
    for (int i = 0; i < 10; ++i) projector.poll_once(100ms);
    applied = world.detail().applied_version(world.stream("quiet")).value() == version &&
              world.catalog().applied_version(world.stream("quiet")).value() == version;
  }
  CHECK(applied);
  CHECK(projector.stats().recoveries >= 1);
  CHECK(projections::read_product_detail(world.redis(), "quiet", world.detail_name()).value().at("on_hand") == "7");
}

}  // namespace

TEST_CASE("after an offset jump a quiet stream's skipped events are caught up from the event store") {
  projection_world world("e2ereset");
  const auto first = world.append("busy", {tests::created("SKU-busy", 1), tests::restocked(1)});
  tests::publish(first);
  {
    // A projector applies the busy stream and checkpoints its partition.
    projection_world consumer("e2ereset");
    projections::projector projector(config_for("reset_before"), consumer.targets(), quiet());
    REQUIRE(wait_until_applied([&] { projector.poll_once(100ms); }, world, {"busy"}, "2"));
    projector.commit();
  }
  // Published while no projector runs; the quiet stream never gets another event.
  tests::publish(world.append("quiet", {tests::created("SKU-quiet", 5), tests::restocked(1), tests::restocked(1)}));
  tests::publish(world.append("busy", {tests::restocked(1)}));
  // A consumer starting past them, as after a reset to the latest offset (retention lost them).
  check_latest_group_catches_up(world, "e2ereset", "reset_after", 3);
}

TEST_CASE("a projection that never applied anything catches up from the event store when its group starts past it") {
  // The topic is shared: every partition already holds other tests' messages, so a group starting
  // at the latest offset (as a projection added to a running group, or a log whose start
  // retention removed) begins past offset 0 on each of them, and this world's projections have no
  // checkpoint anywhere.
  projection_world world("e2efresh");
  tests::publish(world.append("quiet", {tests::created("SKU-fresh", 5), tests::restocked(2)}));
  tests::publish(world.append("busy", {tests::created("SKU-fresh-busy", 1)}));
  check_latest_group_catches_up(world, "e2efresh", "fresh_after", 2);
}

TEST_CASE("a live Redis model that lost its data is applied again from the event store, quiet streams included") {
  projection_world world("e2elost");
  tests::publish(world.append("quiet", {tests::created("SKU-lost", 5), tests::restocked(2)}));
  tests::publish(world.append("busy", {tests::created("SKU-lost-busy", 1), tests::restocked(1)}));
  projection_world consumer("e2elost");
  projections::projector projector(config_for("lost"), consumer.targets(), quiet());
  REQUIRE(wait_until_applied([&] { projector.poll_once(100ms); }, world, {"quiet", "busy"}, "2"));
  projector.commit();
  empty_detail_model(world);
  REQUIRE_FALSE(projections::read_product_detail(world.redis(), "quiet", world.detail_name()).has_value());
  bump_busy_and_check_recovered(world, projector);
  const auto text = projector.registry().render();
  CHECK(metric(text, "cqrs_projection_lost_models_total", world.detail_name()) == 1.0);
  CHECK(metric(text, "cqrs_projection_lost_models_total", world.catalog_name()) == 0.0);
}

TEST_CASE("a Redis model lost while no projector ran is applied again by the next one; a first apply is not a loss") {
  projection_world world("e2elostdown");
  tests::publish(world.append("quiet", {tests::created("SKU-lostdown", 5), tests::restocked(2)}));
  tests::publish(world.append("busy", {tests::created("SKU-lostdown-busy", 1), tests::restocked(1)}));
  projection_world consumer("e2elostdown");
  const auto config = config_for("lostdown");
  {
    projections::projector first(config, consumer.targets(), quiet());
    REQUIRE(wait_until_applied([&] { first.poll_once(100ms); }, world, {"quiet", "busy"}, "2"));
    first.commit();
    CHECK(first.stats().lost_models == 0);  // the projection's first apply made the pointer
  }
  empty_detail_model(world);  // while no projector ran
  projections::projector second(config, consumer.targets(), quiet());
  bump_busy_and_check_recovered(world, second);
}

TEST_CASE("a projector whose Redis connection is killed applies the same event again, losing nothing") {
  projection_world world("e2eredisdrop");
  std::vector<core::recorded_event> first;
  const auto before = seed(world, 0, 3, first);
  tests::publish(first);
  projection_world consumer("e2eredisdrop");
  projections::projector projector(config_for("redisdrop"), consumer.targets(), quiet());
  REQUIRE(wait_until_applied([&] { projector.poll_once(100ms); }, world, before, "4"));
  // As when Redis restarts: the projector's connection dies between two events, and the server
  // has forgotten the apply script.
  const auto id = consumer.redis().checked({"CLIENT", "ID"}).integer;
  world.redis().checked({"SCRIPT", "FLUSH"});
  world.redis().checked({"CLIENT", "KILL", "ID", std::to_string(id)});
  std::vector<core::recorded_event> second;
  const auto after = seed(world, 3, 6, second);
  tests::publish(second);
  CHECK(wait_until_applied([&] { projector.poll_once(100ms); }, world, after, "4"));
  CHECK(projector.stats().dead_lettered == 0);
}
