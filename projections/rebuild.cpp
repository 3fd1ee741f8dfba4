#include "projections/rebuild.hpp"

#include <future>
#include <map>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

namespace cqrs::projections {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

using clock_point = std::chrono::steady_clock::time_point;

// One model being rebuilt.
struct job {
  projection_target* target = nullptr;
  std::unique_ptr<model_builder> builder;  // nullptr: built event by event
  rebuild_report report;
};

// Hands the builders each stream's events in version order, each once, and records the applied
// versions the written model will carry. Events after a gap wait here until the missing versions
// arrive (later in the read, or from the store once the read is over).
class stream_sequencer {
 public:
  explicit stream_sequencer(std::vector<model_builder*> builders) : builders_(std::move(builders)) {}

  void offer(const core::recorded_event& event) {
    const auto& stream = event.stream.str();
    auto at = numbers_.find(stream);
    if (at == numbers_.end()) {
      at = numbers_.emplace(stream, applied_.size()).first;
      applied_.emplace_back(0);
    }
    auto& last = applied_[at->second];
    const auto version = event.version.value();
    if (version <= last) return;  // already folded (it came early, after a gap)
    if (version > last + 1) {
      waiting_[stream].emplace(version, event);
      return;
    }
    fold(event, at->second);
    if (!waiting_.empty()) release(stream, at->second);
  }

  // After the read: the versions still missing come from the store (now free again).
  void fill_gaps(core::event_store& store) {
    while (!waiting_.empty()) {
      const auto stream = waiting_.begin()->first;
      const auto number = numbers_.at(stream);
      const auto first_waiting = waiting_.begin()->second.begin()->first;
      for (const auto& missing : detail::missing_events(store, core::stream_id::trusted(stream),
                                                        core::stream_version{applied_[number] + 1},
                                                        core::stream_version{first_waiting})) {
        fold(missing, number);
      }
      release(stream, number);
    }
  }

  // Stream -> last version folded.
  std::unordered_map<std::string, std::int64_t> applied() const {
    std::unordered_map<std::string, std::int64_t> out;
    out.reserve(numbers_.size());
    for (const auto& [stream, number] : numbers_) out.emplace(stream, applied_[number]);
    return out;
  }

 private:
  void fold(const core::recorded_event& event, std::size_t number) {
    for (auto* builder : builders_) builder->add(event, number);
    applied_[number] = event.version.value();
  }

  void release(const std::string& stream, std::size_t number) {
    const auto found = waiting_.find(stream);
    if (found == waiting_.end()) return;
    auto& queue = found->second;
    while (!queue.empty() && queue.begin()->first <= applied_[number] + 1) {
      if (queue.begin()->first == applied_[number] + 1) fold(queue.begin()->second, number);
      queue.erase(queue.begin());
    }
    if (queue.empty()) waiting_.erase(found);
  }

  std::vector<model_builder*> builders_;
  std::unordered_map<std::string, std::size_t> numbers_;  // stream -> its number
  std::vector<std::int64_t> applied_;                       // by number: last version folded
  std::map<std::string, std::map<std::int64_t, core::recorded_event>> waiting_;
};

std::string names_of(const std::vector<job*>& jobs) {
  std::string names;
  for (const auto* j : jobs) names += (names.empty() ? "" : ",") + j->target->info().name;
  return names;
}

void report_progress(const rebuild_options& options, std::string projection, std::string phase, std::uint64_t events,
                     clock_point start) {
  if (options.on_progress) options.on_progress({std::move(projection), std::move(phase), events, seconds_since(start)});
}

// The bulk build of every job of one category: one COPY read, the folds, then the writes (those
// on their own connections on a second thread, beside the others). Returns where the read ended.
core::log_position bulk_build(const std::vector<job*>& jobs, core::event_store& store, const rebuild_options& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto names = names_of(jobs);
  std::vector<model_builder*> builders;
  for (auto* j : jobs) builders.push_back(j->builder.get());
  stream_sequencer sequencer(builders);
  std::uint64_t events = 0;
  const auto end = store.copy_log(jobs.front()->target->info().category, {}, options.batch, [&](const core::log_batch& b) {
    for (const auto& event : b.events) sequencer.offer(event);
    events += b.events.size();
    report_progress(options, names, "build", events, start);
  });
  if (!end.ok()) throw std::runtime_error("reading the log: " + end.error().detail);
  sequencer.fill_gaps(store);
  report_progress(options, names, "write", events, start);
  const auto applied = sequencer.applied();
  std::vector<std::future<void>> beside;
  for (auto* builder : builders) {
    if (builder->owns_connection())
      beside.push_back(std::async(std::launch::async, [&, builder] { builder->write(applied); }));
  }
  std::exception_ptr failure;
  try {
    for (auto* builder : builders) {
      if (!builder->owns_connection()) builder->write(applied);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  for (auto& f : beside) {
    try {
      f.get();
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  for (auto* j : jobs) j->report.events += events;
  return end.value();
}

core::log_position run_catch_up(job& j, core::event_store& store, core::log_position after,
                                const rebuild_options& options, const std::string& phase) {
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t events = 0;
  return catch_up(*j.target, store, after, j.report.new_model, options.batch, [&](std::uint64_t count) {
    events += count;
    j.report.events += count;
    report_progress(options, j.target->info().name, phase, events, start);
  });
}

// Steps 2 to 5 for one model built up to `built`.
void finish(job& j, core::event_store& store, core::log_position built, const rebuild_options& options,
            clock_point start) {
  const auto caught_up = run_catch_up(j, store, built, options, "catch-up");
  j.target->switch_live(j.report.new_model);
  run_catch_up(j, store, caught_up, options, "final catch-up");
  j.target->drop_model(j.report.old_model);
  j.report.seconds = seconds_since(start);
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

std::vector<rebuild_report> rebuild_all(std::span<projection_target* const> targets, core::event_store& store,
                                        const rebuild_options& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto id = options.rebuild_id.empty() ? random_rebuild_id() : options.rebuild_id;
  std::vector<job> jobs(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto& j = jobs[i];
    j.target = targets[i];
    j.report.projection = j.target->info().name;
    j.report.old_model = j.target->live_model();
    j.report.new_model = j.target->info().model_name(id);
    if (j.report.new_model == j.report.old_model) throw std::invalid_argument("rebuild id names the live model");
    j.builder = j.target->start_build(j.report.new_model);
  }
  // Bulk: one read per category for every job that has a builder.
  std::map<std::string, std::vector<job*>> bulk;
  for (auto& j : jobs) {
    if (j.builder) bulk[j.target->info().category].push_back(&j);
  }
  std::map<const job*, core::log_position> built;
  for (auto& [category, group] : bulk) {
    const auto end = bulk_build(group, store, options);
    for (auto* j : group) built[j] = end;
  }
  for (auto& j : jobs) {
    if (!j.builder) built[&j] = run_catch_up(j, store, {}, options, "build");
  }
  for (auto& j : jobs) finish(j, store, built.at(&j), options, start);
  std::vector<rebuild_report> reports;
  for (auto& j : jobs) reports.push_back(std::move(j.report));
  return reports;
}

rebuild_report rebuild(projection_target& target, core::event_store& store, const rebuild_options& options) {
  projection_target* const one[] = {&target};
  return std::move(rebuild_all(one, store, options).front());
}

}  // namespace cqrs::projections
