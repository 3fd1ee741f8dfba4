#include "gateway/user/user_services.hpp"

#include <algorithm>

#include <fmt/format.h>

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

user_services::user_services(const gateway_config& config, const security::pii_config& pii)
    : keys(security::open_key_store(pii)),
      hasher(config.passwords.argon2),
      passwords(hasher, config.passwords.pool),
      refresh(config.engine.postgres.url),
      signer(config.auth),
      access_ttl(config.auth.access_token_ttl),
      refresh_ttl(config.auth.refresh_token_ttl) {
  auto read = security::read_pii_keys(pii);
  index = std::make_unique<security::blind_index>(std::move(read.index));
  vault = std::make_unique<security::pii_vault>(*keys, std::move(read.ring), pii.vault);
}

// The security library writes `bi1.<base64url>`; the aggregate checks lowercase hex of the HMAC.
std::string user_services::email_index(std::string_view normalised) const {
  const auto written = index->of_normalised(normalised);
  const auto bytes = detail::base64url_decode(std::string_view(written).substr(written.find('.') + 1));
  std::string hex;
  for (const unsigned char b : bytes.value_or("")) hex += fmt::format("{:02x}", b);
  return hex;
}

}  // namespace cqrs::gateway::user
