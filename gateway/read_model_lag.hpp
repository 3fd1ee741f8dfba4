#pragma once

// How stale each read model is, for the header on reads served from it and for /metrics.
//
// A monitor thread measures, once a second on the PostgreSQL pool, the event store's safe head
// and each projection's applied position (its slowest partition that has not proven itself caught
// up with the relay; the relay's position for one that has). Two figures per projection:
// - events: the sequence distance from the model's position to the head (an upper bound of the
//   events the model has not applied: unpublished ones included, since a reader misses those too);
// - seconds: how long ago the store's head was where the model is now. The monitor keeps the head
//   it saw at each measurement for an hour; the newest measurement whose head the model has reached
//   says the model holds everything the store held then. Beyond the hour it says "at least".
// Both are as of the last measurement; `measured_ago` says how old that is (it grows while
// PostgreSQL cannot be asked, and then `seconds` keeps growing with it).
//
// Reads answer with `Read-Model-Lag: model="product_detail", events=0, seconds=0.0, measured_ago=0.4`
// (a structured-field dictionary, RFC 8941). Handlers on any thread read it; a lock guards a small
// map, held for a lookup only.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/log_position.hpp"
#include "gateway/http_types.hpp"
#include "projections/checkpoint_reads.hpp"

namespace cqrs::gateway {

class worker_context;
class worker_pool;
struct gateway_config;

// Sequence numbers between two positions: an upper bound of the events between them (exact
// unless transactions interleave or appends rolled back).
double seq_distance(const core::log_position& ahead, const core::log_position& behind);
// A checkpoint's token as a position; an unreadable or empty one is the beginning.
core::log_position position_of(const std::string& token);

// Each projection's applied position from its checkpoint rows (sorted by projection): a partition
// caught up since the relay's checkpoint counts as at `relay_confirmed`, another one as at its own
// position or the relay's when it was last caught up, whichever is further (an idle partition
// holds everything published to it until then); a projection of `names`
// with no checkpoint yet (its projector never ran) is at the beginning.
std::map<std::string, core::log_position> model_positions(
    const std::vector<projections::projection_partition_state>& rows, core::log_position relay_confirmed,
    const std::vector<std::string>& names = {});

// The names of every projection the engine runs (every registered domain's).
std::vector<std::string> engine_projection_names();

// What the lag figures are computed from, read on a PostgreSQL pool thread: the store's safe head,
// the relay's checkpoint (none before its first) and every projection's checkpoint rows.
struct progress_snapshot {
  core::log_position head;
  std::optional<projections::relay_checkpoint_state> relay;
  std::vector<projections::projection_partition_state> partitions;

  // The relay's confirmed position; the beginning before its first checkpoint.
  core::log_position relay_confirmed() const;
};
progress_snapshot read_progress(worker_context& workers, const gateway_config& config);

class read_model_lag {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::string_view header = "Read-Model-Lag";

  struct figures {
    double events = 0;
    double seconds = 0;
    bool at_least = false;   // older than the history the monitor keeps
    double measured_ago = 0;  // seconds since the measurement
  };

  explicit read_model_lag(std::chrono::seconds history = std::chrono::hours{1});

  // One measurement at `now`: the store's safe head and each projection's applied position.
  void record(clock::time_point now, core::log_position head, const std::map<std::string, core::log_position>& models);

  // Nothing before the first measurement that named the projection.
  std::optional<figures> of(std::string_view projection, clock::time_point now) const;
  // The header's value; nothing before the first measurement.
  std::optional<std::string> header_value(std::string_view projection, clock::time_point now = clock::now()) const;
  // Adds the header to a 2xx answer served from `projection`.
  void mark(http_response& response, std::string_view projection) const;
  // Every projection measured so far.
  std::vector<std::string> projections() const;

 private:
  struct sample {
    clock::time_point at;
    core::log_position head;
  };
  struct model_state {
    core::log_position applied;
    clock::time_point current_as_of;  // the store's head was at or before `applied` then
    bool at_least = false;
    double events = 0;
  };

  mutable std::mutex mutex_;
  std::chrono::seconds history_;
  std::deque<sample> samples_;  // oldest first
  clock::time_point measured_at_;
  std::map<std::string, model_state, std::less<>> models_;
};

// Measures once a second on the PostgreSQL pool while it lives (a full pool skips a beat).
class read_model_lag_monitor {
 public:
  read_model_lag_monitor(read_model_lag& lag, worker_pool& postgres, const gateway_config& config,
                         std::chrono::milliseconds every = std::chrono::seconds{1});
  read_model_lag_monitor(const read_model_lag_monitor&) = delete;
  read_model_lag_monitor& operator=(const read_model_lag_monitor&) = delete;

 private:
  void run(std::stop_token stop);

  read_model_lag& lag_;
  std::vector<std::string> names_;
  worker_pool& postgres_;
  const gateway_config& config_;
  std::chrono::milliseconds every_;
  std::jthread thread_;  // last: started once the members it uses exist
};

}  // namespace cqrs::gateway
