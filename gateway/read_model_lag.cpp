#include "gateway/read_model_lag.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "gateway/gateway_config.hpp"
#include "gateway/worker_context.hpp"
#include "gateway/worker_pool.hpp"
#include "projections/catalog.hpp"
#include "projections/checkpoint_reads.hpp"

namespace cqrs::gateway {

double seq_distance(const core::log_position& ahead, const core::log_position& behind) {
  if (ahead <= behind) return 0;
  return std::max(1.0, static_cast<double>(ahead.seq()) - static_cast<double>(behind.seq()));
}

core::log_position position_of(const std::string& token) {
  auto parsed = core::log_position::parse(token);
  return parsed.ok() ? parsed.value() : core::log_position{};
}

std::map<std::string, core::log_position> model_positions(
    const std::vector<projections::projection_partition_state>& rows, core::log_position relay_confirmed,
    const std::vector<std::string>& names) {
  std::map<std::string, core::log_position> positions;
  for (const auto& name : names) positions.emplace(name, core::log_position{});
  std::set<std::string> seen;
  for (const auto& row : rows) {
    const auto at = row.partition < 0             ? core::log_position{}
                    : row.caught_up_since_relay ? relay_confirmed
                                                : std::max(position_of(row.log_position), position_of(row.caught_up_through));
    const auto [slot, first] = seen.insert(row.projection);
    if (first) {
      positions[row.projection] = at;
    } else {
      positions[row.projection] = std::min(positions[row.projection], at);
    }
  }
  return positions;
}

std::vector<std::string> engine_projection_names() {
  const auto all = projections::default_projections();
  std::vector<std::string> names;
  for (const auto& p : all.redis) names.push_back(p->info().name);
  for (const auto& p : all.postgres) names.push_back(p->info().name);
  return names;
}

core::log_position progress_snapshot::relay_confirmed() const {
  return relay ? position_of(relay->log_position) : core::log_position{};
}

progress_snapshot read_progress(worker_context& workers, const gateway_config& config) {
  const auto& relay = config.relay_name;
  const auto& topic = config.engine.kafka.topic;
  progress_snapshot progress;
  progress.head = workers.store().safe_head();
  workers.reads().run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    progress.relay = projections::read_relay_checkpoint(tx, relay, topic);
    progress.partitions = projections::read_projection_checkpoints(tx, relay, topic);
  });
  return progress;
}

// ---- read_model_lag ------------------------------------------------------------------------------

read_model_lag::read_model_lag(std::chrono::seconds history) : history_(history) {}

void read_model_lag::record(clock::time_point now, core::log_position head,
                            const std::map<std::string, core::log_position>& models) {
  const std::lock_guard lock(mutex_);
  samples_.push_back({now, head});
  while (samples_.size() > 1 && now - samples_.front().at > history_) samples_.pop_front();
  measured_at_ = now;
  for (const auto& entry : models) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in the lambda below.
    const auto& applied = entry.second;
    auto& model = models_[entry.first];
    model.applied = applied;
    model.events = seq_distance(head, applied);
    if (model.events == 0) {
      model.current_as_of = now;
      model.at_least = false;
      continue;
    }
    // The newest moment the store's head was no further than the model is now.
    const auto reached = std::find_if(samples_.rbegin(), samples_.rend(),
                                      [&](const sample& s) { return s.head <= applied; });
    model.at_least = reached == samples_.rend();
    model.current_as_of = model.at_least ? samples_.front().at : reached->at;
  }
}

std::optional<read_model_lag::figures> read_model_lag::of(std::string_view projection, clock::time_point now) const {
  const std::lock_guard lock(mutex_);
  const auto found = models_.find(projection);
  if (found == models_.end()) return std::nullopt;
  const auto& model = found->second;
  const auto seconds_since = [&](clock::time_point t) {
    return std::max(0.0, std::chrono::duration<double>(now - t).count());
  };
  figures f;
  f.events = model.events;
  f.seconds = model.events == 0 ? 0.0 : seconds_since(model.current_as_of);
  f.at_least = model.at_least;
  f.measured_ago = seconds_since(measured_at_);
  return f;
}

std::optional<std::string> read_model_lag::header_value(std::string_view projection, clock::time_point now) const {
  const auto f = of(projection, now);
  if (!f) return std::nullopt;
  // RFC 8941 decimals have at most three fractional digits; one says enough here.
  return fmt::format("model=\"{}\", events={:.0f}, seconds={:.1f}, measured_ago={:.1f}{}", projection, f->events,
                     f->seconds, f->measured_ago, f->at_least ? ", at_least" : "");
}

void read_model_lag::mark(http_response& response, std::string_view projection) const {
  if (response.status < 200 || response.status >= 300) return;
  if (auto value = header_value(projection)) response.set_header(std::string(header), std::move(*value));
}

std::vector<std::string> read_model_lag::projections() const {
  const std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, model] : models_) names.push_back(name);
  return names;
}

// ---- read_model_lag_monitor ----------------------------------------------------------------------

namespace {

void measure(worker_context& workers, read_model_lag& lag, const gateway_config& config,
             const std::vector<std::string>& names) {
  const auto progress = read_progress(workers, config);
  lag.record(read_model_lag::clock::now(), progress.head,
             model_positions(progress.partitions, progress.relay_confirmed(), names));
}

}  // namespace

read_model_lag_monitor::read_model_lag_monitor(read_model_lag& lag, worker_pool& postgres,
                                               const gateway_config& config, std::chrono::milliseconds every)
    : lag_(lag), names_(engine_projection_names()), postgres_(postgres), config_(config), every_(every), thread_([this](std::stop_token stop) {
        run(stop);
      }) {}

void read_model_lag_monitor::run(std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  while (!stop.stop_requested()) {
    postgres_.try_submit([lag = &lag_, config = &config_, names = names_](worker_context& workers) {
      try {
        measure(workers, *lag, *config, names);
      } catch (const std::exception&) {
        // PostgreSQL away: the figures age, and measured_ago says so.
      }
    });
    wake.wait_for(lock, stop, every_, [] { return false; });
  }
}

}  // namespace cqrs::gateway
