#pragma once

// The relay's and the projections' checkpoints, cheap enough for every /metrics scrape (`cqrs
// projections` computes exact lag with a scan per category; this does not).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace cqrs::projections {

struct relay_checkpoint_state {
  std::string log_position;  // token of the last confirmed position
  double age_seconds = 0;    // since the relay last saved it (PostgreSQL's clock)
};

// Nothing before the relay's first checkpoint.
std::optional<relay_checkpoint_state> read_relay_checkpoint(pqxx::transaction_base& tx, const std::string& relay_name,
                                                            const std::string& topic);

struct projection_partition_state {
  std::string projection;
  int partition = 0;
  std::string log_position;  // '' when nothing applied yet
  std::int64_t offset = 0;
  double age_seconds = 0;         // since the projector last saved it
  bool caught_up_since_relay = false;  // caught_up_as_of at or after the relay checkpoint's time
  // The relay's position when the partition was last caught up ('' when no mark that old is
  // kept): the partition holds everything published through it.
  std::string caught_up_through;
};

// Every projection's checkpoint rows (Redis ones included), by projection then partition;
// projections with a PostgreSQL live model but no checkpoint yet appear with partition -1.
std::vector<projection_partition_state> read_projection_checkpoints(pqxx::transaction_base& tx,
                                                                    const std::string& relay_name,
                                                                    const std::string& topic);

}  // namespace cqrs::projections
