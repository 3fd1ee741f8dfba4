#pragma once

// Where the gateway reads its PostgreSQL read models: a streaming replica (CQRS_PG_READ_URL) while
// it keeps up, else the primary. The event store, commands, users and sign-in always use the
// primary; only read-model reads and the read-your-writes checks of their applied records move.
//
// Read-your-writes stays exact. A min_position wait checks the read model's own applied records
// (projection checkpoints, applied stream versions) on the connection the read will use or on an
// older one: those records are replicated in the same transactions as the rows they describe, so a
// check that passes on the replica proves the replica's rows include the write. The version of a
// stream at a position is an event-store fact and is looked up on the primary (a lagging replica's
// event store would name an older version and let a stale read pass). Three states keep check and
// read ordered across a switch:
//
//   replica    checks and reads on the replica
//   bypassed   checks and reads on the primary: the replica is down, or lags more than the bound
//              (CQRS_PG_READ_MAX_LAG_MS)
//   returning  checks on the replica, reads still on the primary, until the replica has replayed
//              the primary's WAL as it was when returning began (so a check passed on the primary
//              before that moment is in the replica before any read goes there); then replica.
//
// The monitor (a thread of its own, every 200 ms) measures the replica's lag: how long ago the
// primary was where the replica has replayed to. A read or check that fails to reach the replica
// bypasses it at once and runs on the primary. Metrics: cqrs_read_replica_state (0 replica,
// 1 returning, 2 bypassed), cqrs_read_replica_lag_seconds, cqrs_read_replica_bypasses_total (times
// the replica was left) and cqrs_read_replica_bypassed_reads_total (reads and checks that went to
// the primary instead).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>

#include "core/log.hpp"
#include "core/metrics.hpp"

namespace cqrs::gateway {

class read_routing {
 public:
  enum class state : int { replica = 0, returning = 1, bypassed = 2 };

  read_routing(core::metrics_registry& registry, std::chrono::milliseconds max_lag);

  // Where a read-model read / a read-your-writes check goes now; a `false` is counted as a
  // bypassed read.
  bool reads_on_replica() noexcept;
  bool checks_on_replica() noexcept;
  // A read or check could not reach the replica: bypassed until the monitor sees it back.
  void replica_failed() noexcept;

  state current() const noexcept { return state_.load(); }
  std::chrono::milliseconds max_lag() const { return max_lag_; }

  // The monitor's measurements and transitions.
  void set_lag(double seconds) noexcept { lag_seconds_.set(seconds); }
  void move_to(state next) noexcept;

 private:
  std::chrono::milliseconds max_lag_;
  std::atomic<state> state_{state::bypassed};  // until the first measurement proves the replica
  core::gauge& state_gauge_;
  core::gauge& lag_seconds_;
  core::counter& bypasses_;
  core::counter& bypassed_reads_;
};

// Measures the replica's lag and moves read_routing between its states (see above).
class read_replica_monitor {
 public:
  read_replica_monitor(read_routing& routing, std::string primary_url, std::string replica_url, core::logger log,
                       std::chrono::milliseconds every = std::chrono::milliseconds{200});
  read_replica_monitor(const read_replica_monitor&) = delete;
  read_replica_monitor& operator=(const read_replica_monitor&) = delete;

 private:
  struct sample {
    std::chrono::steady_clock::time_point at;
    std::int64_t lsn;  // the primary's WAL position then, in bytes
  };

  void run(std::stop_token stop);
  void tick();
  // How long ago the primary was at `replayed` (0 when the replica is at the newest sample).
  double lag_seconds(std::int64_t replayed, std::chrono::steady_clock::time_point now) const;

  read_routing& routing_;
  std::string primary_url_;
  std::string replica_url_;
  core::logger log_;
  std::chrono::milliseconds every_;
  std::deque<sample> samples_;
  std::int64_t returning_from_ = 0;  // the primary's position when `returning` began
  std::jthread thread_;              // last: started once the members it uses exist
};

}  // namespace cqrs::gateway
