#include "gateway/gateway_config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

#include <fmt/format.h>

namespace cqrs::gateway {

namespace {

using namespace std::chrono_literals;

std::size_t count(const core::settings_source& source, const char* variable, std::int64_t fallback, std::int64_t min,
                  std::int64_t max) {
  return static_cast<std::size_t>(source.integer(variable, fallback, min, max));
}

// settings_source reads integers only; the rate limit is a rate, so fractions are allowed.
double decimal(const core::settings_source& source, const char* variable, double fallback, double min, double max) {
  const auto value = source.raw(variable);
  if (!value) return fallback;
  double parsed = 0;
  const auto* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  if (ec != std::errc{} || ptr != end || !(parsed >= min && parsed <= max)) {
    throw core::config_error(variable, fmt::format("expected a number from {} to {}, got '{}'", min, max, *value));
  }
  return parsed;
}

server_limits load_limits(const core::settings_source& source) {
  server_limits l;
  l.max_body_bytes = count(source, "CQRS_HTTP_MAX_BODY_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024);
  l.max_header_bytes = count(source, "CQRS_HTTP_MAX_HEADER_BYTES", 16 * 1024, 1024, 1024 * 1024);
  l.read_timeout = source.milliseconds("CQRS_HTTP_READ_TIMEOUT_MS", l.read_timeout, 100ms, 600'000ms);
  l.idle_timeout = source.milliseconds("CQRS_HTTP_IDLE_TIMEOUT_MS", l.idle_timeout, 100ms, 3'600'000ms);
  l.max_connections = count(source, "CQRS_HTTP_MAX_CONNECTIONS", 10'000, 1, 1'000'000);
  l.max_pipelined = count(source, "CQRS_HTTP_MAX_PIPELINED", 16, 1, 1024);
  l.shutdown_deadline = source.milliseconds("CQRS_HTTP_SHUTDOWN_DEADLINE_MS", l.shutdown_deadline, 0ms, 600'000ms);
  l.drain_delay = source.milliseconds("CQRS_HTTP_DRAIN_DELAY_MS", l.drain_delay, 0ms, 600'000ms);
  return l;
}

// HTTPS unless plain HTTP is asked for by name; the files are read now, so that a missing or
// broken one stops start-up (and `cqrs config`) naming its variable.
tls_config load_tls(const core::settings_source& source) {
  tls_config t;
  t.enabled = !source.boolean("CQRS_HTTP_PLAIN", false);
  t.cert_file = source.text("CQRS_TLS_CERT_FILE", "");
  t.key_file = source.text("CQRS_TLS_KEY_FILE", "");
  const auto version = source.text("CQRS_TLS_MIN_VERSION", "1.3");
  if (version != "1.3" && version != "1.2") {
    throw core::config_error("CQRS_TLS_MIN_VERSION", fmt::format("expected 1.3 or 1.2, got '{}'", version));
  }
  t.allow_tls12 = version == "1.2";
  if (t.enabled) (void)make_tls_context(t);
  return t;
}

// An HS256 key shorter than the hash (32 bytes) weakens it (RFC 7518 3.2): refuse it at start-up
// rather than sign with it.
}  // namespace

// "kid=secret,kid=secret": ids of [A-Za-z0-9._-], secrets of at least 32 characters.
static std::vector<jwt_key> parse_jwt_keys(std::string_view text) {
  std::vector<jwt_key> keys;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto eq = item.find('=');
    const auto id = item.substr(0, eq == std::string_view::npos ? 0 : eq);
    const bool id_ok = !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
    if (!id_ok || item.size() - eq - 1 < 32) {
      throw core::config_error("CQRS_JWT_KEYS", "expected kid=secret pairs (secrets of at least 32 characters), comma-separated");
    }
    keys.push_back({std::string(id), std::string(item.substr(eq + 1))});
  }
  return keys;
}

auth_config load_auth_config(const core::settings_source& source) {
  auth_config a;
  a.jwt_secret = source.text("CQRS_JWT_SECRET", "");
  if (!a.jwt_secret.empty() && a.jwt_secret.size() < 32) {
    throw core::config_error("CQRS_JWT_SECRET", "must be at least 32 characters (or unset to refuse every token)");
  }
  a.issuer = source.text("CQRS_JWT_ISSUER", a.issuer);
  a.audience = source.text("CQRS_JWT_AUDIENCE", a.audience);
  a.leeway = std::chrono::seconds(source.integer("CQRS_JWT_LEEWAY_SECONDS", a.leeway.count(), 0, 3600));
  a.keys = parse_jwt_keys(source.text("CQRS_JWT_KEYS", ""));
  if (a.jwt_secret.empty() && !a.keys.empty()) a.jwt_secret = a.keys.front().secret;
  a.access_token_ttl =
      std::chrono::seconds(source.integer("CQRS_ACCESS_TOKEN_TTL_SECONDS", a.access_token_ttl.count(), 10, 86400));
  a.refresh_token_ttl = std::chrono::seconds(
      source.integer("CQRS_REFRESH_TOKEN_TTL_SECONDS", a.refresh_token_ttl.count(), 60, 365 * 86400));
  return a;
}

namespace {

rate_limit_config load_rate_limit(const core::settings_source& source) {
  rate_limit_config r;
  r.requests_per_second = decimal(source, "CQRS_RATE_LIMIT_RPS", r.requests_per_second, 0, 1e6);
  r.burst = decimal(source, "CQRS_RATE_LIMIT_BURST", r.burst, 1, 1e7);
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A browser sends Origin as scheme://host[:port], never with a path or a trailing slash; an entry
// in any other shape could never match, which is a configuration mistake worth stopping for.
bool is_origin(std::string_view origin) {
  if (origin == "*") return true;
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const auto scheme = origin.substr(0, scheme_end);
  const auto authority = origin.substr(scheme_end + 3);
  return (scheme == "http" || scheme == "https") && !authority.empty() &&
         authority.find_first_of("/?# ") == std::string_view::npos;
}

std::vector<std::string> load_origins(const core::settings_source& source) {
  std::vector<std::string> origins;
  const auto value = source.text("CQRS_CORS_ORIGINS", "");
  std::string_view rest(value);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = trim(rest.substr(0, comma));
    if (!item.empty()) {
      if (!is_origin(item)) {
        throw core::config_error("CQRS_CORS_ORIGINS",
                                 fmt::format("expected * or origins like https://app.example.com, got '{}'", item));
      }
      origins.emplace_back(item);
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return origins;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

// Validated as cqrs-relay validates it: both processes must agree on what a name is.
std::string load_relay_name(const core::settings_source& source) {
  auto name = source.text("CQRS_RELAY_NAME", "main");
  if (name.size() > 100 || !std::all_of(name.begin(), name.end(), is_name_char)) {
    throw core::config_error("CQRS_RELAY_NAME", fmt::format("expected 1-100 of [A-Za-z0-9_.-], got '{}'", name));
  }
  return name;
}

// "product=50000,user=1000": sizes by category, each a count like CQRS_COMMAND_CACHE_SIZE's.
std::map<std::string, std::size_t> load_cache_sizes(const core::settings_source& source) {
  constexpr auto name = "CQRS_COMMAND_CACHE_SIZES";
  std::map<std::string, std::size_t> sizes;
  const auto text = source.text(name, "");
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = item.find('=');
    const auto category = item.substr(0, eq);
    std::uint64_t size = 0;
    const auto digits = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    const auto [end, failure] = std::from_chars(digits.data(), digits.data() + digits.size(), size);
    if (category.empty() || !std::all_of(category.begin(), category.end(), is_name_char) || digits.empty() ||
        failure != std::errc{} || end != digits.data() + digits.size() || size > 10'000'000) {
      throw core::config_error(name, fmt::format("expected category=size,... with sizes 0-10000000, got '{}'", item));
    }
    if (!sizes.emplace(std::string(category), static_cast<std::size_t>(size)).second) {
      throw core::config_error(name, fmt::format("category '{}' is given twice", category));
    }
  }
  return sizes;
}

}  // namespace

std::size_t gateway_config::command_cache_size_for(std::string_view category) const {
  const auto found = command_cache_sizes.find(std::string(category));
  return found == command_cache_sizes.end() ? command_cache_size : found->second;
}

const std::vector<core::setting_spec>& gateway_settings() {
  static const std::vector<core::setting_spec> specs = {
      {"CQRS_TLS_CERT_FILE", "", "PEM certificate chain the gateway serves HTTPS with (server certificate first); "
                                 "read again on SIGHUP"},
      {"CQRS_TLS_KEY_FILE", "", "PEM private key of CQRS_TLS_CERT_FILE; read again on SIGHUP"},
      {"CQRS_TLS_MIN_VERSION", "1.3", "oldest TLS version accepted: 1.3, or 1.2 for old clients"},
      {"CQRS_HTTP_PLAIN", "false",
       "true: plain HTTP without TLS, only behind a load balancer that terminates TLS"},
      {"CQRS_HTTP_MAX_BODY_BYTES", "1048576", "largest request body; larger is answered 413 (1024-67108864)"},
      {"CQRS_HTTP_MAX_HEADER_BYTES", "16384", "largest request line and headers; larger is answered 431 (1024-1048576)"},
      {"CQRS_HTTP_READ_TIMEOUT_MS", "10000", "a started request must arrive whole within this, else 408 (100-600000)"},
      {"CQRS_HTTP_IDLE_TIMEOUT_MS", "60000", "an idle keep-alive connection is closed after this (100-3600000)"},
      {"CQRS_HTTP_MAX_CONNECTIONS", "10000", "open connections at most; more are closed at once (1-1000000)"},
      {"CQRS_HTTP_MAX_PIPELINED", "16", "requests of one connection read ahead of their responses (1-1024)"},
      {"CQRS_HTTP_SHUTDOWN_DEADLINE_MS", "10000", "on SIGTERM, in-flight requests get this long to finish (0-600000)"},
      {"CQRS_PG_READ_URL", "",
       "a streaming replica of CQRS_PG_URL the PostgreSQL read models are read from (read-your-writes stays exact); "
       "empty: the primary"},
      {"CQRS_PG_READ_MAX_LAG_MS", "1000",
       "a replica further behind the primary than this is bypassed for the primary until it catches up (10-600000)"},
      {"CQRS_HTTP_DRAIN_DELAY_MS", "0",
       "on SIGTERM, /readyz answers 503 and connections are still accepted this long before the listener closes, "
       "so that a load balancer's health check takes the gateway out first (0-600000)"},
      {"CQRS_PG_POOL_QUEUE", "256", "requests waiting for a PostgreSQL worker; more answer 503 (0-100000)"},
      {"CQRS_REDIS_POOL_SIZE", "2", "blocking Redis workers (one connection each) of the gateway, used by /readyz (1-256)"},
      {"CQRS_REDIS_POOL_QUEUE", "256", "requests waiting for a Redis worker; more answer 503 (0-100000)"},
      {"CQRS_JWT_SECRET", "", "HS256 key of the bearer tokens, at least 32 characters; unset refuses every token"},
      {"CQRS_JWT_ISSUER", "cqrs-engine", "the iss claim tokens must carry"},
      {"CQRS_JWT_AUDIENCE", "cqrs-api", "the aud claim tokens must carry"},
      {"CQRS_JWT_LEEWAY_SECONDS", "30", "clock skew tolerated on exp and nbf (0-3600)"},
      {"CQRS_JWT_KEYS", "", "HS256 keys by id, kid=secret,...: the first signs, all verify (key rotation)"},
      {"CQRS_ACCESS_TOKEN_TTL_SECONDS", "900", "lifetime of the access tokens issued at login and refresh"},
      {"CQRS_REFRESH_TOKEN_TTL_SECONDS", "2592000", "lifetime of a refresh token (each use issues a new one)"},
      {"CQRS_RATE_LIMIT_RPS", "1000", "requests per second per client (token subject, else address); 0 disables"},
      {"CQRS_RATE_LIMIT_BURST", "2000", "requests a client may send at once (1-10000000)"},
      {"CQRS_CORS_ORIGINS", "", "browser origins allowed, comma-separated (https://app.example.com,...); * allows any"},
      {"CQRS_CONSISTENCY_WAIT_MS", "2000", "longest wait of a read for min_position (read-your-writes) (0-60000)"},
      {"CQRS_KAFKA_PARTITIONS", "6", "partitions of the events topic (1-10000)"},
      {"CQRS_RELAY_NAME", "main", "the relay whose checkpoint read-your-writes follows ([A-Za-z0-9_.-], 1-100)"},
      {"CQRS_COMMAND_CACHE_SIZE", "100000",
       "aggregates of each type whose folded state commands keep in memory (a hit appends in one statement); "
       "0 disables (0-10000000)"},
      {"CQRS_COMMAND_CACHE_SIZES", "",
       "per aggregate category, overriding CQRS_COMMAND_CACHE_SIZE: category=size,... (e.g. product=50000)"},
      {"CQRS_GROUP_COMMIT_MAX", "64",
       "appends written together in one statement and commit (group commit); 1 writes each alone (1-1000)"},
      {"CQRS_PAYMENT_WEBHOOK_SECRET", "",
       "HMAC-SHA-256 key of the card processor's webhook signatures; unset refuses every webhook"},
      {"CQRS_PAYMENT_WEBHOOK_TOLERANCE_SECONDS", "300",
       "how far a webhook signature's timestamp may be from now, either way (1-86400)"},
  };
  return specs;
}

gateway_config load_gateway_config(const core::settings_source& source) {
  gateway_config c;
  c.engine = core::load_engine_config(source);
  c.limits = load_limits(source);
  c.tls = load_tls(source);
  c.postgres_pool.threads = c.engine.postgres.pool_size;
  c.postgres_pool.queue = count(source, "CQRS_PG_POOL_QUEUE", 256, 0, 100'000);
  c.redis_pool.threads = static_cast<int>(source.integer("CQRS_REDIS_POOL_SIZE", 2, 1, 256));
  c.redis_pool.queue = count(source, "CQRS_REDIS_POOL_QUEUE", 256, 0, 100'000);
  c.auth = load_auth_config(source);
  c.pii = core::security::load_pii_config(source);
  c.passwords = core::security::load_password_config(source);
  c.rate_limit = load_rate_limit(source);
  c.cors_origins = load_origins(source);
  c.consistency_wait = source.milliseconds("CQRS_CONSISTENCY_WAIT_MS", c.consistency_wait, 0ms, 60'000ms);
  c.stream_partitions = static_cast<int>(source.integer("CQRS_KAFKA_PARTITIONS", 6, 1, 10'000));
  c.command_cache_size = count(source, "CQRS_COMMAND_CACHE_SIZE", 100'000, 0, 10'000'000);
  c.command_cache_sizes = load_cache_sizes(source);
  c.group_commit_max = count(source, "CQRS_GROUP_COMMIT_MAX", 64, 1, 1'000);
  c.relay_name = load_relay_name(source);
  c.pg_read_url = source.text("CQRS_PG_READ_URL", "");
  c.read_replica_max_lag = source.milliseconds("CQRS_PG_READ_MAX_LAG_MS", c.read_replica_max_lag, 10ms, 600'000ms);
  c.webhook_secret = source.text("CQRS_PAYMENT_WEBHOOK_SECRET", "");
  c.webhook_tolerance = std::chrono::seconds(source.integer("CQRS_PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 300, 1, 86'400));
  return c;
}

}  // namespace cqrs::gateway
