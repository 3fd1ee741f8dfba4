#include "core/supervision.hpp"

namespace cqrs::core {

namespace {
constexpr const char* restarts_env = "CQRS_SUPERVISOR_RESTARTS";
}

setting_spec supervisor_restarts_spec() {
  return {restarts_env, "0", "restarts so far, set by the dev stack's supervisor (metric cqrs_process_restarts)"};
}

std::int64_t publish_supervisor_restarts(const settings_source& source, metrics_registry& registry) {
  const auto restarts = source.integer(restarts_env, 0, 0, 1'000'000'000);
  registry.make_gauge("cqrs_process_restarts", "Times the supervisor started this process again after it exited")
      .set(static_cast<double>(restarts));
  return restarts;
}

}  // namespace cqrs::core
