#pragma once

// Signed webhooks: the sender puts `Provider-Signature: t=<unix seconds>,v1=<hex>` on a POST, where
// <hex> is HMAC-SHA-256 (OpenSSL) keyed with a shared secret over "<t>.<body>". The receiver
// recomputes it, refuses a timestamp outside its tolerance (a captured request cannot be replayed
// later) and, through a replay_cache, the same signature seen twice within the tolerance. A sender
// that retries signs each attempt anew (a fresh timestamp), so a retry is never refused as a
// replay; the receiver still deduplicates by the event's own id.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace cqrs::core::security {

inline constexpr std::string_view webhook_signature_header = "Provider-Signature";
inline constexpr std::chrono::seconds default_webhook_tolerance{300};

// Lowercase hex HMAC-SHA-256 of "<timestamp>.<body>" keyed with `secret`.
std::string webhook_hmac(std::string_view secret, std::int64_t timestamp, std::string_view body);

// The header's value: "t=<timestamp>,v1=<hex>".
std::string sign_webhook(std::string_view secret, std::int64_t timestamp, std::string_view body);

enum class webhook_verdict {
  valid,
  malformed,      // no t= or v1=, or not numbers / hex
  bad_signature,  // the HMAC does not match (wrong secret, altered body or timestamp)
  stale,          // the timestamp is further than the tolerance from now, either way
  replayed,       // this signature was already accepted within the tolerance
  cache_full,     // the replay cache holds `capacity` live signatures: refused, the sender retries
};

std::string_view to_string(webhook_verdict verdict);

// Signatures accepted within the tolerance, each forgotten once its timestamp leaves the window.
// Bounded: when full of live entries it refuses new ones (fails closed) rather than forget one
// that could then be replayed. Thread-safe: a server's I/O threads share one.
class webhook_replay_cache {
 public:
  explicit webhook_replay_cache(std::size_t capacity = 100'000) : capacity_(capacity) {}

  // Records `signature` (valid until `expires`); `replayed` if already present.
  webhook_verdict remember(const std::string& signature, std::int64_t expires, std::int64_t now);
  std::size_t size() const;

 private:
  void forget_expired(std::int64_t now);

  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::set<std::string> seen_;
  std::multimap<std::int64_t, std::string> by_expiry_;
};

// Checks `header` against `body`. `now` is unix seconds. With a cache, a valid signature is
// recorded and a second delivery of it is `replayed`; the cache is consulted last, so a forged or
// stale request never fills it.
webhook_verdict verify_webhook(std::string_view secret, std::string_view header, std::string_view body,
                               std::int64_t now, std::chrono::seconds tolerance = default_webhook_tolerance,
                               webhook_replay_cache* cache = nullptr);

// Unix seconds of the system clock.
std::int64_t unix_now();

}  // namespace cqrs::core::security
