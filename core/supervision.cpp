#include "core/supervision.hpp"

#include <ctime>

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

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

void wait_for_stop(const sigset_t& signals, std::jthread& worker, const std::atomic<bool>& finished,
                   const logger& log) {
  const timespec tick{0, 200'000'000};
  while (!finished.load()) {
    const int signal = sigtimedwait(&signals, nullptr, &tick);
    if (signal == SIGTERM || signal == SIGINT) {
      log.info("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
      break;
    }
  }
  worker.request_stop();
}

}  // namespace cqrs::core
