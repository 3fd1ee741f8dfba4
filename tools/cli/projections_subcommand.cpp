// cqrs projections: list every registered domain's projections with their live model, lag and
// checkpoints.
// cqrs projector: run a projector process (consumer group member) for the projections of every
// registered domain until SIGTERM or SIGINT.

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "core/kafka_bootstrap.hpp"
#include "core/metrics_endpoint.hpp"
#include "core/supervision.hpp"
#include "projections/projector.hpp"
#include "projections/status.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

std::vector<core::setting_spec> runtime_specs() {
  auto specs = projections::runtime_setting_specs();
  specs.push_back({"CQRS_LOG_LEVEL", "info", "debug, info, warn or error"});
  return specs;
}

boost::json::object to_json(const projections::projection_status& s) {
  boost::json::array partitions;
  for (const auto& c : s.checkpoints) {
    partitions.push_back({{"partition", c.partition},
                          {"log_position", c.log_position},
                          {"offset", c.offset},
                          {"updated_at", c.updated_at}});
  }
  return {{"name", s.info.name},
          {"version", s.info.version},
          {"target", projections::to_string(s.info.target)},
          {"category", s.info.category},
          {"live_model", s.live_model},
          {"rebuild_needed", s.rebuild_needed},
          {"lag_events", s.lag_events},
          {"checkpoints", std::move(partitions)}};
}

int run_list(const core::settings_source& source) {
  const auto settings = projections::load_runtime_settings(source);
  projections::runtime rt(settings);
  for (const auto& status : projections::projections_status(rt, settings.pg_url)) {
    std::cout << boost::json::serialize(to_json(status)) << "\n";
  }
  return 0;
}

// Blocks SIGTERM and SIGINT in every thread (librdkafka's included, created later) and turns
// their arrival into `stop`: no global state, no async-signal-safety puzzles.
class signal_stop {
 public:
  signal_stop() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    waiter_ = std::thread([this] {
      int signal = 0;
      sigwait(&set_, &signal);
      stop_ = true;
    });
  }
  ~signal_stop() {
    if (!stop_) pthread_kill(waiter_.native_handle(), SIGTERM);
    waiter_.join();
  }
  const std::atomic<bool>& flag() const { return stop_; }

 private:
  sigset_t set_{};
  std::atomic<bool> stop_ = false;
  std::thread waiter_;
};

int run_projector(const core::settings_source& source) {
  const signal_stop stop;
  const core::logger log("projector", source.level("CQRS_LOG_LEVEL", core::log_level::info));
  const auto config = projections::load_projector_config(source);
  // Connected only once every setting is known good: a bad one is a usage error, not a retry.
  // A dependency down at start-up ends the process (non-zero): its supervisor starts it again.
  projections::runtime rt(projections::load_runtime_settings(source));
  // A stopped Redis holds an apply for this long before its model is cut off and the others go on.
  rt.redis().set_command_timeout(std::chrono::seconds{1});
  core::metrics_registry registry;  // the process's: the gateway will expose it later
  const auto restarts = core::publish_supervisor_restarts(source, registry);
  projections::projector projector(config, rt.targets(), log, registry);
  const auto endpoint = core::serve_metrics(source, registry, log);  // GET /metrics, if CQRS_METRICS_PORT is set
  log.info("projector started",
           {{"group", config.group}, {"topic", config.topic}, {"restarts", std::to_string(restarts)}});
  projector.run(stop.flag());
  log.info("projector stopped", {{"messages", projector.stats().messages},
                                 {"applied", projector.stats().counts.applied},
                                 {"recoveries", projector.stats().recoveries},
                                 {"cut_offs", projector.stats().cut_offs}});
  return 0;
}

}  // namespace

subcommand projections_subcommand() {
  return {"projections",
          "list the projections of every domain: live model, lag in events, per-partition checkpoints (JSON lines)",
          runtime_specs(), run_list};
}

subcommand projector_subcommand() {
  auto specs = runtime_specs();
  specs.insert(specs.end(), {{"CQRS_KAFKA_BOOTSTRAP", "", "Kafka bootstrap servers"},
                             core::kafka::bootstrap_file_spec(),
                             {"CQRS_KAFKA_TOPIC", "events", "the events topic"},
                             {"CQRS_KAFKA_PROPERTIES", "", "extra librdkafka properties, key=value,key=value"},
                             {"CQRS_KAFKA_PROPERTIES_FILE", "", "file of librdkafka properties, one key=value a line"},
                             {"CQRS_PROJECTOR_GROUP", "cqrs-projections", "consumer group"},
                             {"CQRS_PROJECTOR_MAX_ATTEMPTS", "3", "handler attempts before dead-lettering"},
                             {"CQRS_PROJECTOR_HALT_ON_POISON", "false", "true: stop on a poison event"},
                             {"CQRS_PROJECTOR_BATCH", "500", "messages applied together, one transaction per model (1-10000)"},
                             {"CQRS_PROJECTOR_FETCH_WAIT_MS", "2",
                              "longest a fetch waits for new messages: the read models' latency floor on brokers "
                              "that wait it out (1-10000)"},
                             {"CQRS_PROJECTOR_PG_GATHER_MS", "10",
                              "PostgreSQL read models gather events this long, then apply them in one transaction "
                              "(0-10000; 0: every poll)"},
                             {"CQRS_PROJECTOR_METRICS_FILE", "",
                              "write Prometheus text metrics here every second (none if empty)"},
                             core::supervisor_restarts_spec()});
  const auto metrics = core::metrics_endpoint_specs();
  specs.insert(specs.end(), metrics.begin(), metrics.end());
  return {"projector", "run a projector: consume the events topic and keep every projection up to date", specs,
          run_projector};
}

}  // namespace cqrs::tools::cli
