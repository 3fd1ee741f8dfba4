// The broker-restart fault, with a broker of the test's own so that the shared
// one stays up for the other suites: a projector is down while 20 quiet products are restocked,
// the relay's checkpoint passes the restocks, the broker is killed with SIGKILL and started again
// on new ports with a new, empty topic. Relay and projector must follow the bootstrap file by
// themselves, and every acknowledged event must reach both read models, none twice.

#include <doctest/doctest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "core/kafka_bootstrap.hpp"
#include "commands/relay/message_format.hpp"
#include "projections/product/product_projections.hpp"
#include "projections/projector.hpp"
#include "projections/rebuild.hpp"
#include "projections/redis_target.hpp"
#include "tests/kafka/kafka_client.hpp"
#include "tests/redis/projection_fixture.hpp"
#include "tests/relay/relay_test_support.hpp"
#include "tests/support/stack.hpp"

extern char** environ;

using namespace cqrs;
using namespace cqrs::tests::relay;
using namespace std::chrono_literals;
using cqrs::tests::projection_world;

namespace {

// A cqrs-kafka-broker child process publishing its bootstrap list at `file`. Stopped with SIGTERM
// when destroyed; kill() is the fault.
class broker_process {
 public:
  explicit broker_process(std::filesystem::path file) : file_(std::move(file)) {}
  ~broker_process() {
    if (pid_ > 0) stop(SIGTERM);
  }
  broker_process(const broker_process&) = delete;
  broker_process& operator=(const broker_process&) = delete;

  // Starts a broker and waits for a bootstrap list other than `previous` in the file.
  std::string start(const std::string& previous = {}) {
    const std::string binary = CQRS_KAFKA_BROKER_BINARY;
    const std::string topic = kafka_topic();
    const std::string file = file_.string();
    std::vector<const char*> argv = {binary.c_str(), "--brokers", "1",   "--partitions", "6",  "--topic",
                                     topic.c_str(),  "--bootstrap-file", file.c_str(), "--log-level", "warn", nullptr};
    REQUIRE(posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, const_cast<char**>(argv.data()), environ) == 0);
    std::string bootstrap;
    REQUIRE(eventually([&] {
      bootstrap = core::kafka::read_bootstrap_file(file_);
      return !bootstrap.empty() && bootstrap != previous;
    }, 20s));
    return bootstrap;
  }

  // SIGKILL: the bootstrap file stays behind, naming dead ports.
  void kill() { stop(SIGKILL); }

 private:
  void stop(int signal) {
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::filesystem::path file_;
  pid_t pid_ = -1;
};

std::filesystem::path scratch_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("cqrs-broker-restart-" + unique_name("t"));
  std::filesystem::create_directories(dir);
  return dir;
}

projections::projector_config projector_config_for(const std::string& group, const std::string& bootstrap,
                                                   const std::filesystem::path& file) {
  projections::projector_config config;
  config.bootstrap = bootstrap;
  config.bootstrap_file = file.string();
  config.topic = kafka_topic();
  config.group = group;
  config.pg_url = tests::pg_url();
  config.commit_interval = 200ms;
  config.postgres_gather = 0ms;
  return config;
}

core::logger quiet() { return core::logger("projector", core::log_level::error); }

// Whether every product shows `version` in both read models.
bool applied_everywhere(projection_world& world, const std::vector<std::string>& ids, std::int64_t version) {
  for (const auto& id : ids) {
    const auto detail = projections::read_product_detail(world.redis(), id, world.detail_name());
    if (!detail || detail->at("version") != std::to_string(version)) return false;
    if (world.catalog().applied_version(world.stream(id)).value() != version) return false;
  }
  return true;
}

// Polls the projector until `done` holds or `limit` passes.
bool poll_until(projections::projector& projector, const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() >= deadline) return false;
    projector.poll_once(50ms);
  }
  return true;
}

double metric(core::metrics_registry& registry, std::string_view name) {
  const auto text = registry.render();
  const auto at = text.find(std::string(name) + "{");
  if (at == std::string::npos) return -1;
  const auto value = text.find("} ", at);
  return std::stod(text.substr(value + 2, text.find('\n', value) - value - 2));
}

// Publishes `events` as the relay would, but without a relay: no topic-start markers.
void publish_to(const std::string& bootstrap, const std::vector<core::recorded_event>& events) {
  tests::kafka::delivery_tally tally;
  const auto producer = tests::kafka::make_producer(bootstrap, tally);
  for (const auto& event : events) {
    tests::kafka::outgoing_message message{std::string(commands::relay::key_for(event)),
                                           std::string(commands::relay::value_for(event)), {}};
    const commands::relay::event_headers headers(event);
    for (const auto& h : headers.all()) message.headers.emplace_back(h.name, h.value);
    tests::kafka::produce(producer.get(), kafka_topic(), message);
  }
  tests::kafka::flush(producer.get());
  REQUIRE(tally.delivered == events.size());
}

}  // namespace

TEST_CASE("after the broker restarts empty on new ports, relay and projector follow it and no acknowledged event is lost") {
  const auto dir = scratch_dir();
  const auto file = dir / "bootstrap";
  broker_process broker(file);
  const auto first_bootstrap = broker.start();

  projection_world world("brokerrestart");
  const auto name = unique_name("brokerrestart");
  auto options = relay_options_for(name);
  options.kafka.bootstrap = first_bootstrap;
  options.bootstrap_file = file.string();
  running_relay relay(options);

  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back("quiet" + std::to_string(i));
    world.append(ids.back(), {tests::created("SKU-Q" + std::to_string(i), 5)});
  }
  {
    projections::projector before(projector_config_for(name, first_bootstrap, file), world.targets(), quiet());
    REQUIRE(poll_until(before, [&] { return applied_everywhere(world, ids, 1); }, 60s));
    before.commit();
  }  // the projector is down from here on: its checkpoints stay before the restocks

  core::log_position last;
  for (const auto& id : ids) last = world.append(id, {tests::restocked(3)}).back().position;
  REQUIRE(eventually([&] { return !(saved_checkpoint(name) < last); }, 30s));

  broker.kill();
  // Started while the file still names the dead broker, as a projector restarted by a supervisor.
  projections::projector projector(projector_config_for(name, first_bootstrap, file), world.targets(), quiet());
  for (int i = 0; i < 10; ++i) projector.poll_once(50ms);
  CHECK_FALSE(applied_everywhere(world, ids, 2));

  const auto second_bootstrap = broker.start(first_bootstrap);
  REQUIRE(second_bootstrap != first_bootstrap);
  CHECK(poll_until(projector, [&] { return applied_everywhere(world, ids, 2); }, 90s));
  CHECK(projector.stats().recoveries >= 1);
  CHECK(metric(relay.registry(), "cqrs_relay_topic_changes_total") >= 1);

  // The relay publishes to the new broker: a new event arrives by Kafka alone.
  world.append(ids.front(), {tests::restocked(1)});
  CHECK(poll_until(projector, [&] {
    return world.catalog().applied_version(world.stream(ids.front())).value() == 3;
  }, 60s));
  projector.commit();

  // Nothing doubled: each product's stock is its events' (5 + 3, and one more for the first), and
  // both models equal a rebuild from the event store.
  for (const auto& id : ids) {
    const auto detail = projections::read_product_detail(world.redis(), id, world.detail_name());
    REQUIRE(detail.has_value());
    CHECK(detail->at("on_hand") == (id == ids.front() ? "9" : "8"));
  }
  const auto redis_live = world.redis_digest(ids);
  const auto pg_live = world.pg_digest(ids);
  projections::rebuild(world.detail(), world.store(), {});
  projections::rebuild(world.catalog(), world.store(), {});
  CHECK(world.redis_digest(ids) == redis_live);
  CHECK(world.pg_digest(ids) == pg_live);

  relay.stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST_CASE("a relay started after its broker restarted empty marks every partition before publishing from its checkpoint") {
  const auto dir = scratch_dir();
  const auto file = dir / "bootstrap";
  broker_process broker(file);
  const auto first_bootstrap = broker.start();
  const auto name = unique_name("markers");
  projection_world world("markers");
  auto options = relay_options_for(name);
  options.kafka.bootstrap = first_bootstrap;
  options.bootstrap_file = file.string();
  core::log_position last;
  {
    running_relay relay(options);
    last = world.append("m1", {tests::created("SKU-M1", 1)}).back().position;
    REQUIRE(eventually([&] { return !(saved_checkpoint(name) < last); }, 30s));
  }
  const auto checkpoint = saved_checkpoint(name);
  broker.kill();
  const auto second_bootstrap = broker.start(first_bootstrap);

  // Its memory is gone with the process; the checkpoint says events were acknowledged, yet the
  // topic is empty: another topic. (Started with the dead broker's list: the file has the new one.)
  running_relay relay(options);
  REQUIRE(eventually([&] { return metric(relay.registry(), "cqrs_relay_topic_changes_total") >= 1; }, 30s));
  const auto next = world.append("m1", {tests::restocked(1)}).back();

  const auto consumer = tests::kafka::make_consumer(second_bootstrap, unique_name("markers"));
  tests::kafka::subscribe(consumer.get(), kafka_topic());
  const auto got = tests::kafka::consume_matching(consumer.get(), "", 7);  // 6 markers and the new event
  REQUIRE(got.messages.size() == 7);
  std::set<std::int32_t> marked;
  for (const auto& message : got.messages) {
    const auto start = std::find_if(message.headers.begin(), message.headers.end(),
                                    [](const auto& h) { return h.first == "topic-start"; });
    if (message.key.empty()) {
      REQUIRE(start != message.headers.end());
      CHECK(start->second == checkpoint.token());  // what the old topic held up to it is not here
      CHECK(message.offset == 0);  // first in its partition
      marked.insert(message.partition);
    } else {
      CHECK(message.key == next.stream.str());
      CHECK(message.offset == 1);  // after its partition's marker
    }
  }
  CHECK(marked.size() == 6);
  relay.stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST_CASE("a projector meeting offsets below its checkpoints on an unmarked topic catches up from the event store") {
  const auto dir = scratch_dir();
  const auto file = dir / "bootstrap";
  broker_process broker(file);
  const auto first_bootstrap = broker.start();
  projection_world world("unmarked");
  const auto group = unique_name("unmarked");
  std::vector<std::string> ids;
  std::vector<core::recorded_event> created;
  for (int i = 0; i < 6; ++i) {
    ids.push_back("u" + std::to_string(i));
    const auto events = world.append(ids.back(), {tests::created("SKU-U" + std::to_string(i), 5)});
    created.insert(created.end(), events.begin(), events.end());
  }
  publish_to(first_bootstrap, created);
  {
    projections::projector before(projector_config_for(group, first_bootstrap, file), world.targets(), quiet());
    REQUIRE(poll_until(before, [&] { return applied_everywhere(world, ids, 1); }, 60s));
    before.commit();
  }
  std::vector<core::recorded_event> restocks;
  for (const auto& id : ids) restocks.push_back(world.append(id, {tests::restocked(3)}).back());
  publish_to(first_bootstrap, restocks);  // acknowledged by the old broker, never consumed
  broker.kill();
  const auto second_bootstrap = broker.start(first_bootstrap);

  // One new event on the new topic, no marker: its offset is below the checkpointed one.
  publish_to(second_bootstrap, {world.append(ids.front(), {tests::restocked(1)}).back()});
  projections::projector projector(projector_config_for(group, first_bootstrap, file), world.targets(), quiet());
  CHECK(poll_until(projector, [&] {
    return applied_everywhere(world, std::vector<std::string>(ids.begin() + 1, ids.end()), 2) &&
           world.catalog().applied_version(world.stream(ids.front())).value() == 3;
  }, 60s));
  CHECK(projector.stats().recoveries >= 1);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}
