#include "gateway/read_replica.hpp"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "core/pg_connection.hpp"

namespace cqrs::gateway {

namespace {

using clock = std::chrono::steady_clock;

const char* name_of(read_routing::state s) {
  switch (s) {
    case read_routing::state::replica: return "replica";
    case read_routing::state::returning: return "returning";
    case read_routing::state::bypassed: return "bypassed";
  }
  return "unknown";
}

std::int64_t single_number(core::pg_connection& connection, const char* sql) {
  std::int64_t value = 0;
  connection.run(core::statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    value = tx.exec1(sql)[0].as<std::int64_t>();
  });
  return value;
}

// Samples older than this are of no use: a lag past the bound is already known at that point.
constexpr auto samples_kept = std::chrono::seconds{60};

}  // namespace

read_routing::read_routing(core::metrics_registry& registry, std::chrono::milliseconds max_lag)
    : max_lag_(max_lag),
      state_gauge_(registry.make_gauge("cqrs_read_replica_state",
                                       "Where read models are read: 0 the replica, 1 returning to it, 2 the primary")),
      lag_seconds_(registry.make_gauge("cqrs_read_replica_lag_seconds",
                                       "How long ago the primary was where the replica has replayed to")),
      bypasses_(registry.make_counter("cqrs_read_replica_bypasses_total",
                                      "Times the replica was left for the primary (down, or lagging past the bound)")),
      bypassed_reads_(registry.make_counter("cqrs_read_replica_bypassed_reads_total",
                                            "Read-model reads and checks sent to the primary instead of the replica")) {
  state_gauge_.set(static_cast<double>(state::bypassed));
}

bool read_routing::reads_on_replica() noexcept {
  if (current() == state::replica) return true;
  bypassed_reads_.increment();
  return false;
}

bool read_routing::checks_on_replica() noexcept {
  if (current() != state::bypassed) return true;
  bypassed_reads_.increment();
  return false;
}

void read_routing::replica_failed() noexcept { move_to(state::bypassed); }

void read_routing::move_to(state next) noexcept {
  const auto previous = state_.exchange(next);
  if (previous != state::bypassed && next == state::bypassed) bypasses_.increment();
  state_gauge_.set(static_cast<double>(next));
}

read_replica_monitor::read_replica_monitor(read_routing& routing, std::string primary_url, std::string replica_url,
                                           core::logger log, std::chrono::milliseconds every)
    : routing_(routing),
      primary_url_(std::move(primary_url)),
      replica_url_(std::move(replica_url)),
      log_(std::move(log)),
      every_(every),
      thread_([this](std::stop_token stop) { run(stop); }) {}

void read_replica_monitor::run(std::stop_token stop) {
  core::pg_connection primary(primary_url_, {}, core::retry_policy{1, std::chrono::milliseconds{1}});
  core::pg_connection replica(replica_url_, {}, core::retry_policy{1, std::chrono::milliseconds{1}});
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  while (!stop.stop_requested()) {
    try {
      const auto now = clock::now();
      // The flushed position: only flushed WAL is streamed to the replica.
      samples_.push_back({now, single_number(primary, "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint")});
      while (samples_.size() > 1 && now - samples_.front().at > samples_kept) samples_.pop_front();
    } catch (const std::exception&) {
      primary.reset();  // the primary away: nothing to compare with; the routing stays as it is
    }
    std::optional<std::int64_t> replayed;
    try {
      replayed = single_number(replica, "SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::bigint");
    } catch (const std::exception&) {
      replica.reset();
    }
    const auto before = routing_.current();
    if (!replayed) {
      routing_.move_to(read_routing::state::bypassed);
    } else if (!samples_.empty()) {
      const auto lag = lag_seconds(*replayed, clock::now());
      routing_.set_lag(lag);
      const double bound = std::chrono::duration<double>(routing_.max_lag()).count();
      switch (before) {
        case read_routing::state::replica:
          if (lag > bound) routing_.move_to(read_routing::state::bypassed);
          break;
        case read_routing::state::bypassed:
          if (lag <= bound / 2) {
            routing_.move_to(read_routing::state::returning);
            // Sampled after the move: every check made on the primary before it saw no more than this.
            try {
              returning_from_ =
                  single_number(primary, "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint");
            } catch (const std::exception&) {
              primary.reset();
              routing_.move_to(read_routing::state::bypassed);
            }
          }
          break;
        case read_routing::state::returning:
          if (lag > bound) {
            routing_.move_to(read_routing::state::bypassed);
          } else if (*replayed >= returning_from_) {
            routing_.move_to(read_routing::state::replica);
          }
          break;
      }
    }
    const auto after = routing_.current();
    if (after != before) log_.info("read replica", {{"from", name_of(before)}, {"to", name_of(after)}});
    wake.wait_for(lock, stop, every_, [] { return false; });
  }
}

double read_replica_monitor::lag_seconds(std::int64_t replayed, clock::time_point now) const {
  // The oldest sample the replica has not reached: the primary was past the replica from then on.
  for (const auto& s : samples_) {
    if (s.lsn > replayed) return std::chrono::duration<double>(now - s.at).count();
  }
  return 0;
}

}  // namespace cqrs::gateway
