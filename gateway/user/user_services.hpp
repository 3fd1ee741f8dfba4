#pragma once

// What the User routes share, built once per gateway from the security settings: the personal-data
// vault and the email's blind index, the password hasher and its pool (the only place argon2id
// runs), the refresh-token stores, the login throttle and the access-token signer.
//
// Personal fields are sealed for subject = the user's id, in the context {stream "user-<id>",
// field "email" | "name" | "phone" | "address"}.

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/resilience/telemetry.hpp"
#include "core/security/security_config.hpp"
#include "core/security/refresh_token.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/jwt.hpp"

namespace cqrs::gateway {
class worker_context;
}

namespace cqrs::gateway::user {

// Failed logins per normalised email (its blind index), whether or not an account has it: after
// `free_failures`, each try must wait 1 s, doubling per failure, up to `max_delay`. In memory:
// shared_login_throttle's fallback while Redis cannot be reached.
class login_throttle {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr int free_failures = 5;
  static constexpr std::chrono::seconds max_delay{300};
  static constexpr std::size_t max_entries = 100'000;

  // The wait before another try, or nothing when one may be made now.
  std::optional<std::chrono::seconds> wait(const std::string& key, clock::time_point now = clock::now());
  void failed(const std::string& key, clock::time_point now = clock::now());
  void succeeded(const std::string& key);

 private:
  struct entry {
    int failures = 0;
    clock::time_point until;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

// The same rule shared by every gateway, in Redis: one hash per blind index (never the address),
// `cqrs:login-failures:<index>` {failures, until}, `until` on Redis's clock (the gateways' clocks
// may disagree), forgotten `forget_after` after its last delay ends. Each call runs on a Redis pool
// thread (worker_context::redis()); when Redis cannot be reached it falls back to this gateway's
// own counters, so an outage neither opens the throttle entirely nor blocks sign-in.
class shared_login_throttle {
 public:
  static constexpr std::chrono::minutes forget_after{15};

  std::optional<std::chrono::seconds> wait(worker_context& workers, const std::string& index);
  void failed(worker_context& workers, const std::string& index);
  void succeeded(worker_context& workers, const std::string& index);

  static std::string key_of(const std::string& index) { return "cqrs:login-failures:" + index; }

 private:
  login_throttle local_;
};

// pg_refresh_tokens hold a connection each (one thread at a time): pool threads borrow one.
class refresh_stores {
 public:
  explicit refresh_stores(std::string url) : url_(std::move(url)) {}

  template <typename F>
  auto with(F&& f) {
    auto store = take();
    auto result = f(*store);  // an exception drops the store (its connection may be broken)
    give_back(std::move(store));
    return result;
  }

 private:
  std::unique_ptr<core::security::pg_refresh_tokens> take();
  void give_back(std::unique_ptr<core::security::pg_refresh_tokens> store);

  std::string url_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<core::security::pg_refresh_tokens>> free_;
};

// The password pool's bulkhead shows as the resilience instance of this name.
inline constexpr std::string_view password_instance = "password_hashing";

struct user_services {
  // `registry` (may be null) and `log` (may be null): the password pool's resilience series.
  user_services(const gateway_config& config, const core::security::pii_config& pii,
                core::metrics_registry* registry = nullptr, const core::logger* log = nullptr);

  std::unique_ptr<core::security::key_store> keys;
  std::unique_ptr<core::security::blind_index> index;
  std::unique_ptr<core::security::pii_vault> vault;
  core::security::password_hasher hasher;
  std::unique_ptr<core::resilience::telemetry> password_telemetry;  // before the pool it observes
  core::security::password_pool passwords;
  refresh_stores refresh;
  shared_login_throttle throttle;
  jwt_verifier signer;
  std::chrono::seconds access_ttl;
  std::chrono::seconds refresh_ttl;

  // The blind index (lowercase hex, the aggregate's form) of an address in normal form.
  std::string email_index(std::string_view normalised) const;
};

}  // namespace cqrs::gateway::user
