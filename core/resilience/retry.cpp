#include "core/resilience/retry.hpp"

#include <chrono>
#include <cmath>

namespace cqrs::core::resilience {

std::uint32_t attempts_for(const retry_config& config, retry_safety safety) {
  if (safety == retry_safety::unsafe) return 1;
  return config.max_attempts < 1 ? 1 : config.max_attempts;
}

backoff::backoff(retry_config config, std::uint64_t seed) : config_(config), state_(seed) {}

duration backoff::ceiling(std::uint32_t attempt) const {
  if (attempt < 2) return duration::zero();
  const auto cap = std::chrono::duration_cast<duration>(config_.max_backoff);
  const double initial = static_cast<double>(std::chrono::duration_cast<duration>(config_.initial_backoff).count());
  // In floating point, so a long exponent saturates at the cap instead of overflowing.
  const double grown = initial * std::pow(config_.multiplier, static_cast<double>(attempt - 2));
  if (!(grown < static_cast<double>(cap.count()))) return cap;
  return duration{static_cast<duration::rep>(grown)};
}

duration backoff::delay_before(std::uint32_t attempt) {
  const auto top = ceiling(attempt).count();
  if (top <= 0) return duration::zero();
  // 53 random bits as a fraction in [0, 1), scaled onto [0, top]: no modulo bias.
  const double unit = static_cast<double>(next_random() >> 11) * 0x1.0p-53;
  const auto drawn = static_cast<duration::rep>(unit * (static_cast<double>(top) + 1.0));
  return duration{drawn > top ? top : drawn};
}

// splitmix64 (Steele, Lea, Flood): a counter advanced atomically and a stateless mix.
std::uint64_t backoff::next_random() {
  std::uint64_t z = state_.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace cqrs::core::resilience
