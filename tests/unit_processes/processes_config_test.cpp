// cqrs-processes' settings: the handled-event retention's default, a given value, and a bad one
// blamed on its variable.

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>

#include "commands/processes/processes_config.hpp"

namespace {

using namespace cqrs;
using namespace std::chrono_literals;

std::map<std::string, std::string> env_with(std::map<std::string, std::string> more = {}) {
  std::map<std::string, std::string> env{{"CQRS_PG_URL", "postgresql://postgres@127.0.0.1:5432/cqrs"},
                                         {"CQRS_KAFKA_BOOTSTRAP", "127.0.0.1:9092"}};
  env.merge(more);
  return env;
}

}  // namespace

TEST_CASE("a finished process keeps its handled-event records 7 days unless told otherwise") {
  const auto defaults = commands::processes::load_processes_config(core::settings_source(env_with(), {}));
  CHECK(defaults.runtime.handled_retention == 7 * 24h);
  const auto given = commands::processes::load_processes_config(
      core::settings_source(env_with({{"CQRS_PROCESSES_HANDLED_RETENTION_MS", "0"}}), {}));
  CHECK(given.runtime.handled_retention == 0ms);
  try {
    commands::processes::load_processes_config(
        core::settings_source(env_with({{"CQRS_PROCESSES_HANDLED_RETENTION_MS", "-1"}}), {}));
    FAIL("a negative retention was accepted");
  } catch (const core::config_error& e) {
    CHECK(e.variable() == "CQRS_PROCESSES_HANDLED_RETENTION_MS");
  }
}
