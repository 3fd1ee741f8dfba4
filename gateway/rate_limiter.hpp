#pragma once

// Per-client token buckets (a client is a token subject, else an address). Thread-safe: buckets
// are sharded by key, each shard behind its own mutex. Memory is bounded: beyond max_clients the
// shard forgets its idlest buckets (a forgotten client starts again with a full bucket, which
// only ever errs towards letting a request through).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "gateway/gateway_config.hpp"

namespace cqrs::gateway {

struct rate_decision {
  bool allowed = true;
  std::chrono::seconds retry_after{0};  // when refused: until a token is there again (at least 1 s)
};

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  explicit rate_limiter(rate_limit_config config);
  ~rate_limiter();
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  rate_decision take(std::string_view client, clock::time_point now = clock::now());
  std::size_t tracked_clients() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cqrs::gateway
