#pragma once

// What `cqrs projections` shows: each projection's live model, whether its code version asks for
// a rebuild, how many events it has yet to apply (exact: per stream, the store's version minus
// the applied one) and its published per-partition checkpoints.

#include <cstdint>
#include <string>
#include <vector>

#include "projections/catalog.hpp"

namespace cqrs::projections {

struct partition_checkpoint {
  int partition = 0;
  std::string log_position;
  std::int64_t offset = 0;
  std::string updated_at;
};

struct projection_status {
  projection_info info;
  std::string live_model;
  bool rebuild_needed = false;  // the live model was built by another version of the code
  std::int64_t lag_events = 0;
  std::vector<partition_checkpoint> checkpoints;
};

std::vector<projection_status> projections_status(runtime& rt, const std::string& pg_url);

}  // namespace cqrs::projections
