// cqrs-processes' threads (processes_host: consumer, workers, metrics file) with the small test
// process of tests/pg_processes, fed through the events topic in the relay's format: an event
// delivered twice is handled once, and the command it leads to applies once.

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "commands/processes/processes_host.hpp"
#include "tests/e2e/publish.hpp"
#include "tests/pg_processes/test_process.hpp"
#include "tests/support/pg_helpers.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests::processes {

namespace {

using namespace std::chrono_literals;

core::store_options options_for(const std::string& url) {
  core::store_options options;
  options.url = url;
  return options;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("an event delivered twice through the topic is handled once and its command applies once") {
  core::event_store store(options_for(pg_url()));
  const auto trigger = core::stream_id::parse("ptest-" + run_id() + "_kafka").value();
  REQUIRE(store.append(trigger, core::expected_version::no_stream(),
                       {{"ptest.started", 1, upper("PK-" + run_id()), std::nullopt}})
              .ok());
  const auto events = whole_stream(store, trigger);
  publish(events);
  publish(events);  // redelivered, as after a rebalance

  rt::processes_config config;
  config.runtime.pg_url = pg_url();
  config.consumer.bootstrap = kafka_bootstrap();
  config.consumer.topic = events_topic();
  config.consumer.group = "processes-test-" + run_id();
  config.workers = 1;
  config.metrics_file = (std::filesystem::temp_directory_path() / ("processes-" + run_id() + ".metrics")).string();
  core::metrics_registry registry;
  rt::processes_metrics metrics(registry);
  std::vector<rt::registered_process> processes;
  processes.push_back(test_process(3600s, std::make_shared<effect_counter>()));
  const core::logger log("test", core::log_level::error);
  rt::process_runtime runtime(config.runtime, std::move(processes), product_sender(), log, metrics);
  rt::processes_host host(config, runtime, log, registry, metrics);
  std::jthread running([&](std::stop_token stop) { host.run(stop); });

  const auto product = core::stream_id::parse("product-" + run_id() + "_" + run_id() + "_kafka").value();
  CHECK(eventually([&] { return whole_stream(store, product).size() == 1; }, 30s));
  CHECK(eventually([&] { return metrics.events_duplicate.value() == 1; }, 30s));
  CHECK(eventually([&] { return read_file(config.metrics_file).find("cqrs_processes_events_total") != std::string::npos; }, 10s));
  running.request_stop();
  running.join();
  CHECK(whole_stream(store, product).size() == 1);
  CHECK(metrics.events_reacted.value() == 1);
  std::filesystem::remove(config.metrics_file);
}

}  // namespace cqrs::tests::processes
