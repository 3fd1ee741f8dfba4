#pragma once

// The gateway's series written to a file every second (CQRS_GATEWAY_METRICS_FILE), as the relay and
// the projector write theirs: in the dev stack `engine/gateway.metrics`, which `cqrs status` reads
// to show the gateway's resilience instances (password_hashing, gateway_postgres, gateway_redis)
// beside the other processes'. Written on a thread of its own (never an I/O thread), to a temporary
// file renamed into place, so a reader never sees half a file. A failed write is retried a second
// later and never stops the gateway.

#include <chrono>
#include <string>
#include <thread>

#include "core/metrics.hpp"

namespace cqrs::gateway {

class metrics_file {
 public:
  // `path` empty: writes nothing. `registry` outlives this.
  metrics_file(const core::metrics_registry& registry, std::string path,
               std::chrono::milliseconds every = std::chrono::seconds(1));
  ~metrics_file();  // stops the thread, after one last write
  metrics_file(const metrics_file&) = delete;
  metrics_file& operator=(const metrics_file&) = delete;

 private:
  void run(std::stop_token stop);

  const core::metrics_registry& registry_;
  std::string path_;
  std::chrono::milliseconds every_;
  std::jthread thread_;
};

}  // namespace cqrs::gateway
