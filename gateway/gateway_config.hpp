#pragma once

// Everything the gateway reads from its configuration (environment variables, overridden by
// flags; see core/config.hpp), validated into plain values. The list behind `cqrs-gateway --help`
// and the README's table is gateway_settings().

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/security/security_config.hpp"
#include "gateway/tls_context.hpp"

namespace cqrs::gateway {

struct server_limits {
  std::size_t max_header_bytes = 16 * 1024;        // 431 beyond
  std::size_t max_body_bytes = 1024 * 1024;        // 413 beyond
  std::chrono::milliseconds read_timeout{10'000};  // a request must arrive whole within this
  std::chrono::milliseconds idle_timeout{60'000};  // a keep-alive connection with nothing to do
  std::size_t max_connections = 10'000;            // accepted beyond this are closed at once
  std::size_t max_pipelined = 16;                  // requests read ahead of their responses
  std::chrono::milliseconds shutdown_deadline{10'000};  // SIGTERM: in-flight requests get this long
  // SIGTERM: /readyz answers 503 and new connections are still accepted this long before the
  // listener closes (a load balancer's health checks see the gateway leave first; drain_state.hpp).
  std::chrono::milliseconds drain_delay{0};
};

struct pool_limits {
  int threads = 8;          // connections to the dependency, one per thread
  std::size_t queue = 256;  // waiting work beyond the threads; more answers 503
};

// An HS256 key with the id (`kid`) tokens name it by.
struct jwt_key {
  std::string id;
  std::string secret;
};

struct auth_config {
  std::string jwt_secret;  // HS256 key; empty refuses every token (commands then answer 401)
  // CQRS_JWT_KEYS: keys by id; the first signs, all verify (a token naming its kid). A token
  // without a kid is verified with jwt_secret. Rotation: add the new key first, keep the old one
  // until the tokens it signed have expired.
  std::vector<jwt_key> keys;
  std::chrono::seconds access_token_ttl{900};         // tokens issued at login and refresh
  std::chrono::seconds refresh_token_ttl{30 * 86400};
  std::string issuer = "cqrs-engine";
  std::string audience = "cqrs-api";
  std::chrono::seconds leeway{30};  // clock skew tolerated on exp and nbf
};

struct rate_limit_config {
  double requests_per_second = 1000;  // refill rate per client; 0 disables limiting
  double burst = 2000;                // bucket size
  std::size_t max_clients = 100'000;  // buckets kept; the idlest are forgotten beyond
};

struct gateway_config {
  core::engine_config engine;  // PostgreSQL, Redis, Kafka, HTTP host/port/threads, log level
  server_limits limits;
  tls_config tls;  // HTTPS, unless CQRS_HTTP_PLAIN=true
  pool_limits postgres_pool;
  pool_limits redis_pool;
  auth_config auth;
  rate_limit_config rate_limit;
  std::vector<std::string> cors_origins;  // exact origins allowed; "*" allows any
  std::chrono::milliseconds consistency_wait{2'000};  // longest wait for min_position
  int stream_partitions = 6;  // the events topic's partitions (read-your-writes)
  std::string relay_name = "main";
  // Folded aggregates kept for commands, per aggregate type: command_cache_sizes by category,
  // else command_cache_size; 0: no cache.
  std::size_t command_cache_size = 100'000;
  std::map<std::string, std::size_t> command_cache_sizes;
  std::size_t command_cache_size_for(std::string_view category) const;
  std::size_t group_commit_max = 64;          // appends per group commit; 1: each alone
  // Personal data (docs/security.md): nothing without CQRS_PII_MASTER_KEY_FILE, and then no
  // user routes.
  std::optional<core::security::pii_config> pii;
  core::security::password_config passwords;
  // A streaming replica the PostgreSQL read models are read from (read_replica.hpp); empty: the
  // primary only. Bypassed while it lags more than read_replica_max_lag, or is down.
  std::string pg_read_url;
  std::chrono::milliseconds read_replica_max_lag{1'000};
  // The card processor's signed webhooks (docs/payment-provider.md): the HMAC key (empty: every
  // webhook is refused) and how far a signature's timestamp may be from now.
  std::string webhook_secret;
  std::chrono::seconds webhook_tolerance{300};
};

const std::vector<core::setting_spec>& gateway_settings();
gateway_config load_gateway_config(const core::settings_source& source);
// The CQRS_JWT_* part alone (for `cqrs token`, which needs no database or broker).
auth_config load_auth_config(const core::settings_source& source);

}  // namespace cqrs::gateway
