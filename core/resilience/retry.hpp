#pragma once

// Retry decisions: which calls may be tried again, and how long to wait before each attempt.
//
// Only a call that is safe to repeat is retried: one that is idempotent by nature (a read, a
// PUT of a whole value) or one that carries an idempotency key the dependency deduplicates on
// (the card processor's). Anything else runs once: a repeated charge is worse than a failed one.
//
// Backoff is exponential with full jitter (the AWS architecture blog's "full jitter"): the
// delay before attempt n (n >= 2) is uniform in [0, min(max_backoff, initial * multiplier^(n-2))],
// so clients that failed together do not retry together.

#include <atomic>
#include <cstdint>

#include "core/resilience/clock.hpp"
#include "core/resilience/config.hpp"

namespace cqrs::core::resilience {

enum class retry_safety : std::uint8_t {
  unsafe,           // runs once
  idempotent,       // repeating it changes nothing
  idempotency_key,  // repeats are deduplicated by the dependency
};

// Attempts a call of this safety gets under `config` (1 for an unsafe one).
std::uint32_t attempts_for(const retry_config& config, retry_safety safety);

class backoff {
 public:
  // `seed` fixes the jitter sequence (tests); any value works.
  explicit backoff(retry_config config, std::uint64_t seed = 0x9e3779b97f4a7c15ULL);

  // The upper bound of the delay before `attempt` (2 for the first retry).
  duration ceiling(std::uint32_t attempt) const;
  // A delay drawn uniformly from [0, ceiling(attempt)]. Lock-free; any thread.
  duration delay_before(std::uint32_t attempt);

 private:
  std::uint64_t next_random();

  retry_config config_;
  std::atomic<std::uint64_t> state_;  // splitmix64: one atomic add per draw, no lock
};

}  // namespace cqrs::core::resilience
