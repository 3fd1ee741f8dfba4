#include "commands/processes/process_runtime.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "core/errors.hpp"

namespace cqrs::commands::processes {

namespace {

core::store_options store_options_for(const std::string& url, core::commit_notifier& notifier) {
  core::store_options options;
  options.url = url;
  options.notifier = &notifier;
  return options;
}

std::vector<const process_definition*> definitions_of(const std::vector<registered_process>& processes) {
  std::vector<const process_definition*> out;
  for (const auto& p : processes) out.push_back(p.definition.get());
  return out;
}

bool follows(const process_definition& process, std::string_view category) {
  const auto categories = process.categories();
  return std::find(categories.begin(), categories.end(), category) != categories.end();
}

std::string_view outcome_name(const action_result& result) {
  if (std::holds_alternative<action_done>(result)) return "done";
  if (std::holds_alternative<action_refused>(result)) return "refused";
  if (std::holds_alternative<action_parked>(result)) return "parked";
  return "transient";
}

std::string why_of(const action_result& result) {
  if (const auto* r = std::get_if<action_refused>(&result)) return r->why;
  if (const auto* t = std::get_if<action_transient>(&result)) return t->why;
  if (const auto* p = std::get_if<action_parked>(&result)) return p->why;
  return {};
}

}  // namespace

process_runtime::process_runtime(runtime_options options, std::vector<registered_process> processes,
                                 command_sender sender, core::logger log, processes_metrics& metrics)
    : options_(std::move(options)),
      processes_(std::move(processes)),
      definitions_(definitions_of(processes_)),
      sender_(std::move(sender)),
      log_(std::move(log)),
      metrics_(metrics),
      notifier_(options_.pg_url),
      consumer_store_(options_.pg_url, options_.retry) {}

std::vector<std::string> process_runtime::categories() const {
  std::set<std::string> all;
  for (const auto* p : definitions_) {
    for (auto& c : p->categories()) all.insert(std::move(c));
  }
  return {all.begin(), all.end()};
}

void process_runtime::handle(const core::recorded_event& event) {
  bool reacted = false;
  for (const auto* process : definitions_) {
    if (!follows(*process, event.stream.category())) continue;
    switch (consumer_store_.handle_event(*process, event)) {
      case handled_as::reacted: metrics_.events_reacted.increment(); reacted = true; break;
      case handled_as::duplicate: metrics_.events_duplicate.increment(); break;
      case handled_as::ignored: metrics_.events_other.increment(); break;
      case handled_as::no_instance: metrics_.events_other.increment(); break;
      case handled_as::unchanged: metrics_.events_other.increment(); break;
    }
  }
  if (reacted) wake();
}

std::vector<std::unique_ptr<effect_performer>> process_runtime::make_performers() const {
  std::vector<std::unique_ptr<effect_performer>> performers;
  for (const auto& p : processes_) performers.push_back(p.effects ? p.effects->make() : nullptr);
  return performers;
}

void process_runtime::run_worker(const std::stop_token& stop) {
  process_store store(options_.pg_url, options_.retry);
  core::event_store events(store_options_for(options_.pg_url, notifier_));
  auto performers = make_performers();
  auto quiet_until = std::chrono::steady_clock::now();
  int failures = 0;
  while (!stop.stop_requested()) {
    try {
      if (work_once(store, events, performers) > 0) {
        failures = 0;
        continue;
      }
      failures = 0;
      // At least a moment: what is due may be another runtime's, or a stuck process's.
      const auto next = store.next_due_in().value_or(options_.idle_poll);
      sleep(stop, std::clamp(next, std::chrono::milliseconds{20}, options_.idle_poll));
    } catch (const core::store_error& e) {
      if (!e.retryable() && e.kind() != core::failure_kind::in_doubt) throw;
      metrics_.store_errors.increment();
      if (std::chrono::steady_clock::now() >= quiet_until) {
        log_.warn("process worker: PostgreSQL failed, trying again", {{"error", e.what()}});
        quiet_until = std::chrono::steady_clock::now() + std::chrono::seconds{1};
      }
      sleep(stop, std::min(std::chrono::milliseconds{100} * (1 << std::min(++failures, 5)), std::chrono::milliseconds{3000}));
    }
  }
}

std::size_t process_runtime::work_once(process_store& store, core::event_store& events,
                                       std::vector<std::unique_ptr<effect_performer>>& performers) {
  const auto fired = store.fire_due_deadlines(definitions_, options_.take_batch);
  metrics_.deadlines_fired.increment(static_cast<double>(fired));
  std::vector<std::string> types;
  for (const auto* p : definitions_) types.emplace_back(p->type());
  const auto due = store.take_due(types, options_.take_batch, options_.lease);
  for (const auto& action : due) {
    const auto* process = find(action.process_type);
    if (process == nullptr) continue;  // never: only this runtime's types are taken
    const auto result = carry_out(action, events, performers);
    count(result);
    if (!std::holds_alternative<action_done>(result)) {
      log_.info("process action not done",
                {{"process", action.process_type + "/" + action.process_id}, {"action", action.key},
                 {"outcome", std::string(outcome_name(result))}, {"why", why_of(result)}});
    }
    store.complete(*process->definition, action, result);
  }
  return fired + due.size();
}

action_result process_runtime::carry_out(const pending_action& action, core::event_store& events,
                                         std::vector<std::unique_ptr<effect_performer>>& performers) {
  if (action.kind == "command") {
    const auto target = core::stream_id::parse(action.name);
    if (!target.ok()) return action_refused{"not a stream id: " + action.name};
    return sender_.send(events, {target.value(),
                                 {action.payload_type, action.payload_version, action.payload},
                                 action.idempotency_key,
                                 action.correlation_id,
                                 action.causation_id});
  }
  const auto index = static_cast<std::size_t>(std::distance(
      processes_.begin(), std::find_if(processes_.begin(), processes_.end(),
                                       [&](const auto& p) { return p.definition->type() == action.process_type; })));
  if (index >= performers.size() || !performers[index]) return action_refused{"no performer for effect " + action.name};
  try {
    return performers[index]->perform({action.process_type, action.process_id, action.key, action.idempotency_key,
                                       action.name, action.payload, action.correlation_id, action.causation_id},
                                      events);
  } catch (const core::store_error& e) {
    return action_transient{std::string("PostgreSQL: ") + e.what()};
  }
}

void process_runtime::count(const action_result& result) {
  if (std::holds_alternative<action_done>(result)) metrics_.actions_done.increment();
  if (std::holds_alternative<action_refused>(result)) metrics_.actions_refused.increment();
  if (std::holds_alternative<action_transient>(result)) metrics_.actions_transient.increment();
  if (std::holds_alternative<action_parked>(result)) metrics_.actions_parked.increment();
}

const registered_process* process_runtime::find(std::string_view type) const {
  for (const auto& p : processes_) {
    if (p.definition->type() == type) return &p;
  }
  return nullptr;
}

void process_runtime::sleep(const std::stop_token& stop, std::chrono::milliseconds at_most) {
  std::unique_lock lock(mutex_);
  const auto seen = generation_;
  wake_.wait_for(lock, stop, at_most, [&] { return generation_ != seen; });
}

void process_runtime::wake() {
  {
    const std::lock_guard lock(mutex_);
    ++generation_;
  }
  wake_.notify_all();
}

}  // namespace cqrs::commands::processes
