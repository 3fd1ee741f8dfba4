#include "commands/relay/relay.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "commands/relay/event_producer.hpp"
#include "commands/relay/leader_session.hpp"
#include "commands/relay/log_reader.hpp"

namespace cqrs::commands::relay {

namespace {

using namespace std::chrono_literals;
using steady_clock = std::chrono::steady_clock;

constexpr auto report_interval = 1s;         // lag gauges and the metrics file
constexpr auto progress_log_interval = 10s;  // one info line while leading
constexpr std::size_t reader_depth = 4;      // batches read ahead
constexpr auto topic_sample_timeout = 3s;    // per metadata or watermark request at a run's start
constexpr auto marker_timeout = 10s;         // for the topic-start markers to be acknowledged

core::store_options store_options_for(const relay_options& options) {
  core::store_options store;
  store.url = options.pg_url;
  return store;
}

core::key_values checked(core::key_values properties) {
  check_producer_properties(properties);
  return properties;
}

double seconds_between(core::timestamp from, std::chrono::system_clock::time_point to) {
  return std::max(0.0, std::chrono::duration<double>(to - from).count());
}

// Names one identity change in its markers: random, so two relays (or two changes) never share one.
std::string new_epoch() {
  std::random_device random;
  const auto high = (std::uint64_t{random()} << 32) | random();
  const auto low = (std::uint64_t{random()} << 32) | random();
  return fmt::format("{:016x}{:016x}", high, low);
}

}  // namespace

relay::relay(relay_options options, const core::logger& log, core::metrics_registry& registry)
    : options_(std::move(options)),
      log_(log.child("relay")),
      registry_(registry),
      metrics_(registry, options_.name),
      producer_properties_(checked(producer_properties(options_))),
      store_(store_options_for(options_)),
      bootstrap_(options_.kafka.bootstrap, options_.bootstrap_file) {}

relay::~relay() = default;

void relay::run(std::stop_token stop) {
  leader_session leader(options_.pg_url, options_.name, options_.kafka.topic);
  log_.info("relay starting", {{"relay", options_.name}, {"topic", options_.kafka.topic}});
  while (!stop.stop_requested()) {
    attempt_lead(leader, stop);
    // A leader that stopped leading (or failed) lets go of the lock; a standby keeps its session.
    if (leader.is_leader()) leader.release();
    metrics_.leader.set(0);
    if (!stop.stop_requested()) pause(options_.standby_retry, stop);
  }
  log_.info("relay stopped", {{"relay", options_.name}});
}

// The component edge: every failure of PostgreSQL or Kafka ends up here, is logged and counted,
// and the caller tries again (as a standby first, so another instance may take over).
void relay::attempt_lead(leader_session& leader, const std::stop_token& stop) {
  try {
    if (leader.try_acquire()) {
      standing_by_ = false;
      lead(leader, stop);
    } else if (!standing_by_) {
      standing_by_ = true;
      log_.info("standing by: another instance leads", {{"relay", options_.name}});
    }
  } catch (const leadership_lost& e) {
    metrics_.leadership_losses.increment();
    log_.error("lost leadership: stopped producing", {{"error", e.what()}});
  } catch (const core::store_error& e) {
    metrics_.store_errors.increment();
    log_.error("PostgreSQL failed", {{"error", e.what()}, {"kind", core::to_string(e.kind())}});
  } catch (const std::exception& e) {
    metrics_.delivery_errors.increment();
    log_.error("relay failed", {{"error", e.what()}});
  }
}

void relay::lead(leader_session& leader, const std::stop_token& stop) {
  cursor at;
  const auto saved = leader.load_checkpoint();
  at.confirmed = at.saved = saved.value_or(options_.start_position);
  // Saved at once, so that the start position of a new relay survives a crash before its first save.
  if (!saved) leader.save_checkpoint(at.confirmed);
  metrics_.leader.set(1);
  log_.info("leading: publishing from the checkpoint", {{"relay", options_.name}, {"checkpoint", at.confirmed.token()}});
  log_reader reader({options_.pg_url, options_.batch, options_.poll, reader_depth}, at.confirmed);
  // Every run sends everything after the checkpoint again; consumers drop what they have by position.
  while (!stop.stop_requested()) {
    switch (publish(leader, reader, at, stop)) {
      case run_end::stopped: return;
      case run_end::broker_moved:
      case run_end::topic_changed: break;  // the next run reconnects, checks the topic and marks it
      case run_end::producer_failed:
        log_.warn("restarting the producer from the checkpoint", {{"checkpoint", at.confirmed.token()}});
        if (!pause(options_.standby_retry, stop)) return;
        break;
    }
  }
}

relay::run_end relay::publish(leader_session& leader, log_reader& reader, cursor& at, const std::stop_token& stop) {
  delivery_tracker tracker;  // outlives the producer, which reports into it
  event_producer producer(properties_for(bootstrap_.current()), options_.kafka.topic, tracker, log_,
                          metrics_.kafka_errors);
  if (!confirm_topic(producer, at)) return run_end::producer_failed;
  at.read = at.confirmed;
  reader.restart(at.read);
  return publish_run(producer, tracker, leader, reader, at, stop);
}

relay::run_end relay::publish_run(event_producer& producer, delivery_tracker& tracker, leader_session& leader,
                                  log_reader& reader, cursor& at, const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    if (!harvest(tracker, at)) {
      save_if_moved(leader, at);
      return run_end::topic_changed;
    }
    if (const auto failure = tracker.failure()) {
      metrics_.delivery_errors.increment();
      log_.error("delivery failed: the checkpoint stays before it", {{"error", *failure}, {"checkpoint", at.confirmed.token()}});
      save_if_moved(leader, at);
      return run_end::producer_failed;  // the producer's destructor purges what is still queued
    }
    if (bootstrap_.moved()) {
      log_.warn("the broker moved (new bootstrap file): reconnecting", {{"checkpoint", at.confirmed.token()}});
      save_if_moved(leader, at);
      return run_end::broker_moved;  // what is in flight to the old broker goes again to the new one
    }
    keep_lead(leader, at);
    report(tracker, at);
    fill(producer, reader, tracker, at);
  }
  finish(producer, tracker, leader, at);
  return run_end::stopped;
}

// Produces the next batch read ahead, waiting for one at most `poll`.
void relay::fill(event_producer& producer, log_reader& reader, delivery_tracker& tracker, cursor& at) {
  const std::size_t in_flight = tracker.in_flight();
  metrics_.in_flight.set(static_cast<double>(in_flight));
  if (in_flight >= options_.max_in_flight) {
    tracker.wait_for_progress(options_.poll);  // Kafka is slow or down: hold reading back
    return;
  }
  const auto batch = reader.next(options_.poll);
  if (!batch || produce_batch(producer, tracker, at, *batch)) return;
  // Not all went: librdkafka's queue is full (it is sized not to be), or the producer failed (the
  // next round sees the failure). Read the rest again from the last event produced.
  reader.restart(at.read);
  tracker.wait_for_progress(options_.poll);
}

// Produces in log order; stops at the first event librdkafka does not take. Returns whether the
// whole batch went.
bool relay::produce_batch(event_producer& producer, delivery_tracker& tracker, cursor& at,
                          const std::vector<core::recorded_event>& events) {
  for (const auto& event : events) {
    const ticket id = tracker.enqueue(event.position, event.recorded_at);
    if (!producer.try_produce(event, id)) {
      tracker.cancel_last();
      return false;
    }
    at.read = event.position;
  }
  return true;
}

// The producer's properties with the bootstrap list in use (the bootstrap file's, when set).
core::key_values relay::properties_for(const std::string& bootstrap) const {
  auto properties = producer_properties_;
  for (auto& [name, value] : properties) {
    if (name == "bootstrap.servers") value = bootstrap;
  }
  return properties;
}

// Before any event of a run: is the topic the one the checkpoint was made on (topic_identity.hpp)?
// When it is not, every partition gets a topic-start marker before the run sends anything.
// False when the cluster does not answer or the markers are not acknowledged: the run ends, and
// the next one asks again (markers owed stay owed until acknowledged).
bool relay::confirm_topic(event_producer& producer, const cursor& at) {
  const auto sample = producer.sample_topic(topic_sample_timeout);
  if (!sample) {
    metrics_.kafka_errors.increment();
    log_.warn("cannot read the topic's metadata: not publishing yet", {{"topic", options_.kafka.topic}});
    return false;
  }
  if (identity_.changed(*sample, options_.start_position < at.confirmed)) markers_owed_ = true;
  identity_.adopt(*sample);
  return !markers_owed_ || mark_topic_start(producer, *sample, at);
}

// Never skip (README "Broker identity"): the run publishes every event after at.confirmed, so a
// marker saying "this partition holds every event after at.confirmed from here on" is true, and
// what the old topic held up to at.confirmed is for consumers to read from the event store.
bool relay::mark_topic_start(event_producer& producer, const topic_sample& sample, const cursor& at) {
  const auto epoch = new_epoch();
  log_.warn("the topic is not the one the checkpoint was made on: marking its partitions, then publishing from the checkpoint",
            {{"topic", options_.kafka.topic},
             {"cluster", sample.cluster_id},
             {"resumes_after", at.confirmed.token()},
             {"epoch", epoch}});
  if (!producer.send_markers(static_cast<int>(sample.high_watermarks.size()), at.confirmed, epoch, marker_timeout)) {
    log_.warn("topic-start markers not acknowledged: trying again", {{"epoch", epoch}});
    return false;
  }
  markers_owed_ = false;
  metrics_.topic_changes.increment();
  return true;
}

// Takes the confirmed prefix. False when a delivery landed at an offset its partition had passed
// already: another topic behind the same address (topic_identity.hpp). That event and the ones
// after it stay unconfirmed, so the checkpoint stays before them and the next run, after its
// markers, sends them again.
bool relay::harvest(delivery_tracker& tracker, cursor& at) {
  const auto confirmed = tracker.take_confirmed();
  std::size_t taken = 0;
  for (const auto& event : confirmed) {
    if (!identity_.acknowledged(event.place.partition, event.place.offset)) {
      markers_owed_ = true;
      log_.warn("a delivery went to an offset its partition had passed: the topic is another one",
                {{"partition", event.place.partition}, {"offset", event.place.offset}});
      break;
    }
    metrics_.delivery_seconds.observe(seconds_between(event.recorded_at, event.acked_at));
    if (hook_) hook_(event);
    at.confirmed = event.position;
    ++taken;
  }
  metrics_.events.increment(static_cast<double>(taken));
  return taken == confirmed.size();
}

// Saves the checkpoint when it moved, or proves the lock otherwise, every checkpoint_interval.
void relay::keep_lead(leader_session& leader, cursor& at) {
  const auto now = steady_clock::now();
  if (now < next_save_) return;
  next_save_ = now + options_.checkpoint_interval;
  if (!save_if_moved(leader, at)) leader.heartbeat();
}

// Saves the checkpoint if it moved since the last save; returns whether it did.
bool relay::save_if_moved(leader_session& leader, cursor& at) {
  if (!(at.saved < at.confirmed)) return false;
  leader.save_checkpoint(at.confirmed);
  at.saved = at.confirmed;
  return true;
}

void relay::report(const delivery_tracker& tracker, const cursor& at) {
  const auto now = steady_clock::now();
  if (now < next_report_) return;
  next_report_ = now + report_interval;
  update_lag(tracker, at);
  if (!options_.metrics_file.empty()) write_metrics_file();
  if (now < next_progress_log_) return;
  const double events = metrics_.events.value();
  log_.info("progress", {{"events", static_cast<std::int64_t>(events - events_at_last_log_)},
                         {"checkpoint", at.confirmed.token()},
                         {"in_flight", tracker.in_flight()},
                         {"lag_events", static_cast<std::int64_t>(metrics_.lag_events.value())},
                         {"lag_seconds", fmt::format("{:.3f}", metrics_.lag_seconds.value())}});
  events_at_last_log_ = events;
  next_progress_log_ = now + progress_log_interval;
}

// Lag in events is approximate: the difference of sequence numbers between the safe head and the
// checkpoint (exact unless transactions interleave at either end, or sequence numbers were
// skipped by rolled-back appends). Counting exactly would cost a scan of the whole backlog.
void relay::update_lag(const delivery_tracker& tracker, const cursor& at) {
  const auto oldest = tracker.oldest_in_flight();
  metrics_.lag_seconds.set(oldest ? seconds_between(*oldest, std::chrono::system_clock::now()) : 0.0);
  const auto head = store_.safe_head();
  const bool caught_up = head <= at.confirmed;
  const double behind = static_cast<double>(head.seq()) - static_cast<double>(at.confirmed.seq());
  metrics_.lag_events.set(caught_up ? 0.0 : std::max(behind, 1.0));
  // A long write transaction anywhere in the database delays every reader (never loses events).
  metrics_.store_xmin_lag_seconds.set(store_.measure_xmin_lag().oldest_writer_age_seconds);
}

// Written to a temporary file and renamed, so a scraper never reads half a file.
void relay::write_metrics_file() const {
  const std::filesystem::path target(options_.metrics_file);
  const auto temporary = target.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << registry_.render();
    if (!out) return;
  }
  std::error_code ignored;
  std::filesystem::rename(temporary, target, ignored);
}

void relay::finish(event_producer& producer, delivery_tracker& tracker, leader_session& leader, cursor& at) {
  const bool drained = producer.flush(options_.shutdown_grace);
  (void)harvest(tracker, at);  // a changed topic found now is found again by the next leader
  save_if_moved(leader, at);
  log_.info("stopped publishing", {{"checkpoint", at.confirmed.token()},
                                   {"drained", drained ? "true" : "false"},
                                   {"unconfirmed", tracker.in_flight()}});
}

// Sleeps, waking early on a stop request; false when stopped.
bool relay::pause(std::chrono::milliseconds duration, const std::stop_token& stop) {
  std::unique_lock lock(pause_mutex_);
  pause_.wait_for(lock, stop, duration, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace cqrs::commands::relay
