#pragma once

// A projector process's engine: consumes the events topic in a consumer group with manual
// commits and feeds every message to the projections of its stream's category. Several
// projectors share the partitions; a dead one's partitions move to the survivors, which get its
// uncommitted messages again: harmless, as every target applies each stream version once.
//
// Offsets are committed only for messages already applied (commit after apply), and per-
// partition log positions are published to projection_checkpoints at the same moments.
//
// Offset jumps: Kafka keeps little (the embedded broker ~5 MiB a partition), so a committed
// offset can fall out of retention and auto.offset.reset moves the consumer past messages never
// applied; a fresh group with auto.offset.reset=latest does the same. A quiet stream's lost
// events would then never be asked for (no later version of it arrives to reveal the gap). So
// the first message of a partition after assignment is compared with the projections' checkpointed
// offset (offset 0 when one of them has applied nothing there), and every later one with its
// predecessor; on a jump, every projection catches up its
// whole category from the event store after the partition's checkpointed log position, applying
// idempotently (the per-stream applied version makes events already applied no-ops).
//
// Failures (docs/projections.md, "When a dependency fails"): an unreachable Redis or PostgreSQL,
// or a commit whose outcome is unknown, cuts off the one read model that met it. The others go
// on; the cut-off model takes no Kafka messages until it has caught up from the event store (from
// the lowest log position it applied on the assigned partitions), tried again with capped
// exponential backoff. Each model's own progress is checkpointed, and the Kafka offset committed
// is the lowest that every model has applied, so nothing is skipped and, the per-stream applied
// version being committed with each change, nothing is applied twice. Anything else (a broken
// invariant, a statement PostgreSQL refuses) leaves run() as an exception: the process exits
// non-zero and its supervisor starts it again.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/event_store.hpp"
#include "core/events.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "projections/catalog.hpp"
#include "projections/dead_letters.hpp"
#include "core/kafka_handles.hpp"
#include "projections/projector_metrics.hpp"
#include "projections/watermark_watcher.hpp"

namespace pqxx {
class transaction_base;
}

namespace cqrs::projections {

struct projector_config {
  std::string bootstrap;
  // The embedded broker's bootstrap file (CQRS_KAFKA_BOOTSTRAP_FILE): when set, its list replaces
  // `bootstrap`, and a new list (a restarted broker's new ports) rebuilds the Kafka clients.
  std::string bootstrap_file;
  std::string topic = "events";
  std::string group = "cqrs-projections";
  core::key_values kafka_properties;  // passed through to librdkafka
  std::string pg_url;                 // checkpoints and dead letters
  int max_attempts = 3;               // handler attempts before an event is dead-lettered
  bool halt_on_poison = false;        // stop instead of dead-lettering
  std::chrono::milliseconds commit_interval{1000};
  std::size_t max_batch = 500;  // messages applied together (one transaction / pipeline per model)
  // The consumer's fetch.wait.max.ms: how long a fetch waits for new messages (see consumer_conf).
  std::chrono::milliseconds fetch_wait{2};
  // PostgreSQL read models gather the events of successive polls for up to this long (or up to
  // max_batch events) and apply them in one transaction; Redis models apply every poll at once.
  // A transaction's cost is mostly per batch (round trips, the commit's WAL flush), and a poll
  // brings a handful of events under a steady load (at 2,000 events/s, 10 ms took ~0.9 s of
  // PostgreSQL CPU per 15 s, ~10 % of all of PostgreSQL's, and ~20 % of the projector's own:
  // docs/BENCHMARKS.md).
  // 0 applies every poll to every model. Read-your-writes and the checkpoints count a gathered
  // event only once it is applied.
  std::chrono::milliseconds postgres_gather{0};
  std::string metrics_file;  // Prometheus text written here every metrics_interval, if set
  std::chrono::milliseconds metrics_interval{1000};
};

// The projector's settings (CQRS_KAFKA_*, CQRS_PG_URL, CQRS_PROJECTOR_*), validated as the
// projector validates them at start-up; throws core::config_error. `cqrs config` runs it too.
projector_config load_projector_config(const core::settings_source& source);

struct projector_stats {
  std::uint64_t messages = 0;
  std::uint64_t ignored = 0;  // other categories, or not an event message
  apply_counts counts;
  std::uint64_t dead_lettered = 0;
  std::uint64_t recoveries = 0;  // offset jumps caught up from the event store
  std::uint64_t lost_models = 0;  // live models found emptied (pointer gone), caught up from the store
  std::uint64_t cut_offs = 0;     // read models cut off by an infrastructure failure
  std::uint64_t heals = 0;        // cut-off read models caught up from the store and back on Kafka
};

// An exception the projector outlives (a Redis or PostgreSQL connection lost or refused, a commit
// whose outcome is unknown, a serialization failure): its message, or nothing for every other
// exception, which ends the projector. libpqxx exceptions are judged as core/errors.hpp does.
std::optional<std::string> infrastructure_failure(const std::exception_ptr& failure);

class projector {
 public:
  // Metrics go to `registry` (the process's), or to a registry of the projector's own.
  projector(projector_config config, const target_set& targets, core::logger log, core::metrics_registry& registry);
  projector(projector_config config, const target_set& targets, core::logger log);
  ~projector();
  projector(const projector&) = delete;
  projector& operator=(const projector&) = delete;

  // Polls until `stop` is set; commits what was applied before returning.
  void run(const std::atomic<bool>& stop);
  // One poll; returns whether a message was handled (tests drive it step by step).
  bool poll_once(std::chrono::milliseconds timeout);
  // Applies what the PostgreSQL models gathered (see projector_config::postgres_gather) and
  // stores the offsets of everything handled so far; run() and poll_once() call it when due.
  void apply_gathered();
  // Publishes checkpoints (projection_checkpoints), then commits the applied offsets.
  // `check_idle`: also record idle partitions as caught up (not inside a rebalance).
  void commit(bool check_idle = true);

  // Updates the lag gauges and writes the metrics file (if configured); run() calls it.
  void report_metrics();

  const projector_stats& stats() const { return stats_; }
  core::metrics_registry& registry() { return registry_; }

 private:
  // A partition's newest message of some kind (handled, applied by a model), with the position
  // of the newest event up to it (none while only other messages were seen).
  struct handled_message {
    std::optional<std::string> position;
    std::int64_t offset = 0;

    void advance_to(const handled_message& later);
  };

  // One read model's progress in this session. `applied`: per partition, the newest message it
  // has applied everything up to (its checkpoint); `pending`: handled but gathered, applied with
  // the gathered events. A cut-off model takes no messages until it has caught up from the store.
  struct model_state {
    std::map<std::int32_t, handled_message> applied;
    std::map<std::int32_t, handled_message> pending;
    bool cut_off = false;
    int failures = 0;  // in a row, for the backoff and the log
    std::chrono::steady_clock::time_point retry_at;
  };

  projector(projector_config config, const target_set& targets, core::logger log,
            std::unique_ptr<core::metrics_registry> own, core::metrics_registry* shared);
  bool gathers(const projection_target& target) const;
  bool gather_due() const;
  std::chrono::milliseconds poll_timeout() const;
  void store_offsets();
  void discard_gathered();
  void forget_partitions();
  void handle(const std::vector<core::kafka::message_ptr>& batch);
  void note_handled(const std::vector<core::kafka::message_ptr>& batch,
                    const std::vector<std::optional<core::recorded_event>>& events);
  void promote_pending(model_state& model);
  // The lowest message every model has applied on the partition, if each has applied one.
  std::optional<handled_message> applied_by_all(std::int32_t partition) const;
  // Failure handling (see the header comment), kept apart from the consume path.
  bool try_apply(projection_target& target, std::span<const core::recorded_event> events);
  void cut_off(projection_target& target, const std::string& why);
  void cut_off_all(const std::string& why);
  void heal_due();
  void heal(projection_target& target);
  std::optional<core::log_position> catch_up_start(const projection_target& target);
  std::string checkpointed_position(const projection_target& target, std::int32_t partition);
  std::vector<std::int32_t> assigned_partitions();
  // Runs `work` at the poll loop's edge: an infrastructure failure is logged (once a second) and
  // false returned, the loop going on; any other exception leaves.
  bool at_edge(std::string_view step, const std::function<void()>& work);
  void rethrow_deferred();
  bool wanted(std::string_view category) const;
  void count(projection_target& target, std::span<const core::recorded_event> events, const apply_counts& counts);
  void update_lag();
  // Offset jump recovery (see the header comment).
  void expect_checkpointed_offsets(const rd_kafka_topic_partition_list_t& partitions);
  std::int64_t checkpointed_offset(std::int32_t partition);
  void verify_partition(std::int32_t partition);
  void check_offset_jump(const rd_kafka_message_t& message);
  void recover_partition(std::int32_t partition);
  // Broker identity (docs/projections.md): a topic other than the one the checkpoints were made on.
  void subscribe();
  void follow_bootstrap_file();
  bool check_topic_identity(const rd_kafka_message_t& message);
  void on_topic_start(std::int32_t partition, std::int64_t offset, const core::log_position& start);
  void on_offset_backwards(const rd_kafka_message_t& message, std::int64_t expected);
  void restart_checkpointed_offsets(std::int32_t partition, std::int64_t offset);
  void recover_lost_model(projection_target& target);
  // Records in projection_applied that the target's projection has applied events; false when it
  // was recorded already (by an earlier session, or another projector of the group).
  bool record_applied(const projection_target& target);
  core::log_position recovery_start(const projection_target& target, std::int32_t partition);
  void catch_up_from_store(projection_target& target, core::log_position after);
  void apply_to(projection_target& target, std::span<const core::recorded_event> events);
  void apply_batch(projection_target& target, std::span<const core::recorded_event> events);
  void apply_once(projection_target& target, const core::recorded_event& event);
  void save_checkpoints(bool check_idle);
  void save_checkpoints_of(pqxx::transaction_base& tx, const projection_target& target,
                           const std::map<std::int32_t, std::string>& caught_up);
  // Assigned partitions whose every message up to a sampled high watermark is applied, with the
  // sample's time.
  std::map<std::int32_t, std::string> caught_up_partitions();
  static void on_rebalance(rd_kafka_t* client, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque);

  projector_config config_;
  const target_set& targets_;
  core::logger log_;
  std::unique_ptr<core::metrics_registry> own_registry_;
  core::metrics_registry& registry_;
  std::map<std::string, projection_metrics> metrics_;
  std::map<std::string, core::timestamp> newest_applied_;  // recorded_at, per projection
  core::event_store store_;  // offset jump recovery: no upcasters, like the Kafka messages
  dead_letter_store dead_letters_;
  core::pg_connection checkpoints_;
  std::optional<watermark_watcher> watermarks_;  // made again, like consumer_, when the broker moves
  core::kafka::client_ptr consumer_;
  std::map<const projection_target*, model_state> models_;
  std::map<std::int32_t, handled_message> handled_;        // newest message handled, per assigned partition
  std::map<std::int32_t, std::int64_t> stored_;            // offsets stored: applied by every model
  std::set<std::int32_t> unverified_;  // assigned while the checkpointed offsets could not be read
  std::exception_ptr deferred_failure_;  // met inside librdkafka's callback, rethrown after it
  std::map<projection_target*, std::vector<core::recorded_event>> gathered_;
  std::size_t gathered_events_ = 0;
  std::chrono::steady_clock::time_point gathering_since_;
  std::map<std::int32_t, std::int64_t> next_offset_;  // expected next offset per assigned partition
  std::set<const projection_target*> applied_;  // targets this session applied to (recorded in projection_applied)
  projector_stats stats_;
  std::chrono::steady_clock::time_point quiet_until_;  // edge failures are logged once per second
  std::chrono::steady_clock::time_point last_commit_;
  std::chrono::steady_clock::time_point last_metrics_;
  std::chrono::steady_clock::time_point next_bootstrap_check_{};
};

}  // namespace cqrs::projections
