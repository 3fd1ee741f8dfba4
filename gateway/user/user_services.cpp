#include "gateway/user/user_services.hpp"

#include <algorithm>


#include "gateway/worker_context.hpp"

namespace cqrs::gateway::user {

namespace security = core::security;

std::optional<std::chrono::seconds> login_throttle::wait(const std::string& key, clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(key);
  if (found == entries_.end() || found->second.until <= now) return std::nullopt;
  const auto left = std::chrono::ceil<std::chrono::seconds>(found->second.until - now);
  return std::max(left, std::chrono::seconds(1));
}

void login_throttle::failed(const std::string& key, clock::time_point now) {
  const std::lock_guard lock(mutex_);
  if (entries_.size() >= max_entries) {
    // Bounded: forget the entries no longer delaying anyone first, everything if that is not enough.
    std::erase_if(entries_, [&](const auto& e) { return e.second.until <= now; });
    if (entries_.size() >= max_entries) entries_.clear();
  }
  auto& e = entries_[key];
  ++e.failures;
  if (e.failures < free_failures) return;
  const int doublings = std::min(e.failures - free_failures, 16);
  const auto delay = std::min<std::chrono::seconds>(std::chrono::seconds(1LL << doublings), max_delay);
  e.until = now + delay;
}

void login_throttle::succeeded(const std::string& key) {
  const std::lock_guard lock(mutex_);
  entries_.erase(key);
}

namespace {

// KEYS[1] the index's hash; ARGV free failures, the longest delay (s), how long to keep it (ms).
constexpr const char* failed_script = R"lua(
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local delay = 0
if failures >= tonumber(ARGV[1]) then
  delay = math.min(2 ^ math.min(failures - tonumber(ARGV[1]), 16), tonumber(ARGV[2])) * 1000
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'until', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + delay)
end
redis.call('PEXPIRE', KEYS[1], delay + tonumber(ARGV[3]))
return failures
)lua";

// Milliseconds left of the index's delay, 0 when a try may be made now.
constexpr const char* wait_script = R"lua(
local until_ms = redis.call('HGET', KEYS[1], 'until')
if not until_ms then return 0 end
local t = redis.call('TIME')
local left = tonumber(until_ms) - (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if left <= 0 then return 0 end
return left
)lua";

}  // namespace

std::optional<std::chrono::seconds> shared_login_throttle::wait(worker_context& workers, const std::string& index) {
  try {
    const auto left = workers.redis().evaluate(wait_script, {key_of(index)}, {});
    if (left.is_error()) throw projections::redis_error(left.text);
    if (left.integer <= 0) return std::nullopt;
    return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(std::chrono::milliseconds(left.integer)));
  } catch (const projections::redis_error&) {
    workers.drop_connections();
    return local_.wait(index);
  }
}

void shared_login_throttle::failed(worker_context& workers, const std::string& index) {
  try {
    const auto keep = std::chrono::duration_cast<std::chrono::milliseconds>(forget_after);
    const auto done = workers.redis().evaluate(failed_script, {key_of(index)},
                                               {std::to_string(login_throttle::free_failures),
                                                std::to_string(login_throttle::max_delay.count()),
                                                std::to_string(keep.count())});
    if (done.is_error()) throw projections::redis_error(done.text);
  } catch (const projections::redis_error&) {
    workers.drop_connections();
    local_.failed(index);
  }
}

void shared_login_throttle::succeeded(worker_context& workers, const std::string& index) {
  local_.succeeded(index);
  try {
    (void)workers.redis().command({"DEL", key_of(index)});
  } catch (const projections::redis_error&) {
    workers.drop_connections();
  }
}

std::unique_ptr<security::pg_refresh_tokens> refresh_stores::take() {
  {
    const std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      auto store = std::move(free_.back());
      free_.pop_back();
      return store;
    }
  }
  return std::make_unique<security::pg_refresh_tokens>(url_);
}

void refresh_stores::give_back(std::unique_ptr<security::pg_refresh_tokens> store) {
  const std::lock_guard lock(mutex_);
  free_.push_back(std::move(store));
}

namespace {

std::unique_ptr<core::resilience::telemetry> password_series(core::metrics_registry* registry, const core::logger* log) {
  if (registry == nullptr) return nullptr;
  const core::logger fallback("cqrs-gateway");
  return std::make_unique<core::resilience::telemetry>(std::string(password_instance), *registry,
                                                       log != nullptr ? *log : fallback, 1);
}

}  // namespace

user_services::user_services(const gateway_config& config, const security::pii_config& pii,
                             core::metrics_registry* registry, const core::logger* log)
    : keys(security::open_key_store(pii)),
      hasher(config.passwords.argon2),
      password_telemetry(password_series(registry, log)),
      passwords(hasher, config.passwords.pool, password_telemetry.get()),
      refresh(config.engine.postgres.url),
      signer(config.auth),
      access_ttl(config.auth.access_token_ttl),
      refresh_ttl(config.auth.refresh_token_ttl) {
  auto read = security::read_pii_keys(pii);
  index = std::make_unique<security::blind_index>(std::move(read.index));
  vault = std::make_unique<security::pii_vault>(*keys, std::move(read.ring), pii.vault);
}

std::string user_services::email_index(std::string_view normalised) const { return index->of_normalised(normalised); }

}  // namespace cqrs::gateway::user
