#include "commands/processes/processes_host.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "commands/processes/event_consumer.hpp"
#include "commands/processes/process_admin.hpp"
#include "core/errors.hpp"
#include "core/pg_connection.hpp"

namespace cqrs::commands::processes {

namespace {

void pause(const std::stop_token& stop, std::chrono::milliseconds duration) {
  std::mutex mutex;
  std::condition_variable_any never;
  std::unique_lock lock(mutex);
  never.wait_for(lock, stop, duration, [] { return false; });
}

std::chrono::milliseconds backoff(int failures) {
  return std::min(std::chrono::milliseconds{100} * (1 << std::min(failures, 5)), std::chrono::milliseconds{3000});
}

}  // namespace

processes_host::processes_host(const processes_config& config, process_runtime& runtime, core::logger log,
                               core::metrics_registry& registry, processes_metrics& metrics,
                               std::vector<std::function<std::string()>> more_metrics)
    : config_(config),
      runtime_(runtime),
      log_(std::move(log)),
      registry_(registry),
      metrics_(metrics),
      more_metrics_(std::move(more_metrics)) {}

void processes_host::run(const std::stop_token& stop) {
  std::vector<std::jthread> threads;
  for (int i = 0; i < config_.workers; ++i) {
    threads.emplace_back([this, &stop] { runtime_.run_worker(stop); });
  }
  threads.emplace_back([this, &stop] { report_metrics(stop); });
  consume(stop);
}

void processes_host::consume(const std::stop_token& stop) {
  const auto categories = runtime_.categories();
  event_consumer consumer(config_.consumer, {categories.begin(), categories.end()}, log_);
  log_.info("consuming", {{"group", config_.consumer.group}, {"topic", config_.consumer.topic}});
  int failures = 0;
  while (!stop.stop_requested()) {
    try {
      consumer.poll(std::chrono::milliseconds{200}, [this](const core::recorded_event& e) { runtime_.handle(e); });
      failures = 0;
    } catch (const core::store_error& e) {
      if (!e.retryable() && e.kind() != core::failure_kind::in_doubt) throw;
      metrics_.store_errors.increment();
      log_.warn("event not handled (PostgreSQL): it comes again", {{"error", e.what()}});
      pause(stop, backoff(++failures));
    }
  }
}

// The stuck and pending gauges, read from PostgreSQL; a failure leaves them as they were.
void processes_host::report_metrics(const std::stop_token& stop) {
  core::pg_connection connection(config_.runtime.pg_url);
  while (!stop.stop_requested()) {
    try {
      const auto counts = count_processes(connection.get());
      metrics_.stuck.set(static_cast<double>(counts.stuck));
      metrics_.pending_actions.set(static_cast<double>(counts.pending_actions));
    } catch (const std::exception&) {
      connection.reset();
    }
    if (!config_.metrics_file.empty()) {
      std::string more;
      for (const auto& text : more_metrics_) more += text();
      core::write_metrics_file(registry_, config_.metrics_file, more);
    }
    pause(stop, std::chrono::milliseconds{1000});
  }
}

}  // namespace cqrs::commands::processes
