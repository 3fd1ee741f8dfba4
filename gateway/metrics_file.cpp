#include "gateway/metrics_file.hpp"

#include <condition_variable>
#include <mutex>

#include "core/metrics.hpp"

namespace cqrs::gateway {

metrics_file::metrics_file(const core::metrics_registry& registry, std::string path, std::chrono::milliseconds every)
    : registry_(registry), path_(std::move(path)), every_(every) {
  if (!path_.empty()) thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

metrics_file::~metrics_file() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void metrics_file::run(std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any woken;
  while (true) {
    (void)core::write_metrics_file(registry_, path_);
    std::unique_lock lock(mutex);
    (void)woken.wait_for(lock, stop, every_, [] { return false; });
    if (stop.stop_requested()) {
      (void)core::write_metrics_file(registry_, path_);
      return;
    }
  }
}

}  // namespace cqrs::gateway
