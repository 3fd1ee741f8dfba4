#include "gateway/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace cqrs::gateway {

namespace {

// Enough shards that I/O threads rarely meet on one mutex; each stays a plain LRU map.
constexpr std::size_t max_shards = 16;
// A refill slower than a token a day is a misconfiguration; cap Retry-After rather than overflow.
constexpr double longest_retry_seconds = 24.0 * 3600;

struct bucket {
  std::string client;
  double tokens = 0;
  rate_limiter::clock::time_point refilled;
};

// One shard: buckets in least-recently-used order (front = most recent), indexed by client.
// The index's keys view the strings inside the list nodes, which never move.
struct shard {
  std::mutex mutex;
  std::list<bucket> recency;
  std::unordered_map<std::string_view, std::list<bucket>::iterator> index;
};

}  // namespace

struct rate_limiter::impl {
  double rate;            // tokens per second; <= 0 disables limiting
  double burst;           // bucket size
  std::vector<shard> shards;
  std::size_t per_shard;  // buckets a shard keeps at most

  explicit impl(const rate_limit_config& config);
  shard& shard_of(std::string_view client);
  bucket& find_or_add(shard& s, std::string_view client, clock::time_point now);
  void refill(bucket& b, clock::time_point now) const;
  rate_decision take_from(bucket& b) const;
};

rate_limiter::impl::impl(const rate_limit_config& config)
    : rate(config.requests_per_second),
      // A bucket smaller than one token would refuse everyone forever.
      burst(std::max(config.burst, 1.0)),
      // Never more shards than clients, so that the per-shard caps sum to at most max_clients.
      shards(std::clamp<std::size_t>(config.max_clients, 1, max_shards)),
      per_shard(std::max<std::size_t>(config.max_clients, 1) / shards.size()) {}

shard& rate_limiter::impl::shard_of(std::string_view client) {
  return shards[std::hash<std::string_view>{}(client) % shards.size()];
}

bucket& rate_limiter::impl::find_or_add(shard& s, std::string_view client, clock::time_point now) {
  if (const auto found = s.index.find(client); found != s.index.end()) {
    s.recency.splice(s.recency.begin(), s.recency, found->second);  // now the most recent
    return *found->second;
  }
  if (s.index.size() >= per_shard) {  // forget the least recently seen client
    s.index.erase(s.recency.back().client);
    s.recency.pop_back();
  }
  s.recency.push_front(bucket{std::string(client), burst, now});
  s.index.emplace(s.recency.front().client, s.recency.begin());
  return s.recency.front();
}

void rate_limiter::impl::refill(bucket& b, clock::time_point now) const {
  // Callers read the clock before taking the lock, so `now` can be slightly behind `refilled`:
  // such a caller gets no refill, and time never runs backwards for the bucket.
  if (now <= b.refilled) return;
  const std::chrono::duration<double> elapsed = now - b.refilled;
  b.tokens = std::min(burst, b.tokens + elapsed.count() * rate);
  b.refilled = now;
}

rate_decision rate_limiter::impl::take_from(bucket& b) const {
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return {true, std::chrono::seconds{0}};
  }
  const double wait = std::min(std::ceil((1 - b.tokens) / rate), longest_retry_seconds);
  return {false, std::chrono::seconds{std::max<std::int64_t>(1, static_cast<std::int64_t>(wait))}};
}

rate_limiter::rate_limiter(rate_limit_config config) : impl_(std::make_unique<impl>(config)) {}

rate_limiter::~rate_limiter() = default;

rate_decision rate_limiter::take(std::string_view client, clock::time_point now) {
  if (!(impl_->rate > 0)) return {};  // disabled (NaN included)
  auto& s = impl_->shard_of(client);
  const std::lock_guard lock(s.mutex);
  auto& b = impl_->find_or_add(s, client, now);
  impl_->refill(b, now);
  return impl_->take_from(b);
}

std::size_t rate_limiter::tracked_clients() const {
  std::size_t total = 0;
  for (auto& s : impl_->shards) {
    const std::lock_guard lock(s.mutex);
    total += s.index.size();
  }
  return total;
}

}  // namespace cqrs::gateway
