#include "projections/rebuild.hpp"

#include <random>
#include <stdexcept>

namespace cqrs::projections {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

core::log_position run_phase(projection_target& target, core::event_store& store, core::log_position after,
                             const std::string& model, const rebuild_options& options, const std::string& phase,
                             std::uint64_t& total) {
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t events = 0;
  return catch_up(target, store, after, model, options.batch, [&](std::uint64_t count) {
    events += count;
    total += count;
    if (options.on_progress) options.on_progress({phase, events, seconds_since(start)});
  });
}

}  // namespace

std::string random_rebuild_id() {
  std::random_device device;
  std::mt19937_64 generator((static_cast<std::uint64_t>(device()) << 32) | device());
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id;
  for (int i = 0; i < 10; ++i) id.push_back(alphabet[generator() % 36]);
  return id;
}

core::log_position catch_up(projection_target& target, core::event_store& store, core::log_position after,
                            const std::optional<std::string>& model, std::size_t batch,
                            const std::function<void(std::uint64_t)>& on_batch) {
  const auto end = store.for_each_log_batch(target.info().category, after, batch, [&](const core::log_batch& b) {
    target.apply(b.events, model);
    if (on_batch) on_batch(b.events.size());
  });
  if (!end.ok()) throw std::runtime_error("reading the log: " + end.error().detail);
  return end.value();
}

rebuild_report rebuild(projection_target& target, core::event_store& store, const rebuild_options& options) {
  const auto start = std::chrono::steady_clock::now();
  rebuild_report report;
  report.old_model = target.live_model();
  report.new_model = target.info().model_name(options.rebuild_id.empty() ? random_rebuild_id() : options.rebuild_id);
  if (report.new_model == report.old_model) throw std::invalid_argument("rebuild id names the live model");
  const auto built = run_phase(target, store, {}, report.new_model, options, "build", report.events);
  target.switch_live(report.new_model);
  run_phase(target, store, built, report.new_model, options, "catch-up", report.events);
  target.drop_model(report.old_model);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace cqrs::projections
