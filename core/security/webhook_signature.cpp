#include "core/security/webhook_signature.hpp"

#include <charconv>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace cqrs::core::security {

namespace {

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0x0f];
  }
  return out;
}

struct parsed_header {
  std::int64_t timestamp = 0;
  std::string signature;
};

bool is_hex(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// "t=123,v1=abc" in any order; unknown parts (a future v2=) are ignored, as Stripe's are.
std::optional<parsed_header> parse_header(std::string_view header) {
  std::optional<std::int64_t> timestamp;
  std::string signature;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const auto part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    if (part.starts_with("t=")) {
      std::int64_t value = 0;
      const auto digits = part.substr(2);
      // One spelling per timestamp: "t=0017..." is not "t=17...", so refuse leading zeros.
      if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (error != std::errc{} || end != digits.data() + digits.size() || value < 0) return std::nullopt;
      timestamp = value;
    } else if (part.starts_with("v1=")) {
      signature = std::string(part.substr(3));
    }
  }
  if (!timestamp || signature.size() != 64 || !is_hex(signature)) return std::nullopt;
  return parsed_header{*timestamp, std::move(signature)};
}

}  // namespace

std::string webhook_hmac(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  const std::string message = fmt::format("{}.{}", timestamp, body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &size) == nullptr) {
    throw std::runtime_error("HMAC-SHA-256 failed");
  }
  return hex(digest, size);
}

std::string sign_webhook(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  return fmt::format("t={},v1={}", timestamp, webhook_hmac(secret, timestamp, body));
}

std::string_view to_string(webhook_verdict verdict) {
  switch (verdict) {
    case webhook_verdict::valid: return "valid";
    case webhook_verdict::malformed: return "malformed";
    case webhook_verdict::bad_signature: return "bad_signature";
    case webhook_verdict::stale: return "stale";
    case webhook_verdict::replayed: return "replayed";
    case webhook_verdict::cache_full: return "cache_full";
  }
  return "unknown";
}

webhook_verdict webhook_replay_cache::remember(const std::string& signature, std::int64_t expires, std::int64_t now) {
  const std::lock_guard lock(mutex_);
  forget_expired(now);
  if (seen_.contains(signature)) return webhook_verdict::replayed;
  if (seen_.size() >= capacity_) return webhook_verdict::cache_full;
  seen_.insert(signature);
  by_expiry_.emplace(expires, signature);
  return webhook_verdict::valid;
}

std::size_t webhook_replay_cache::size() const {
  const std::lock_guard lock(mutex_);
  return seen_.size();
}

void webhook_replay_cache::forget_expired(std::int64_t now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first < now) {
    seen_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
}

webhook_verdict verify_webhook(std::string_view secret, std::string_view header, std::string_view body,
                               std::int64_t now, std::chrono::seconds tolerance, webhook_replay_cache* cache) {
  const auto parsed = parse_header(header);
  if (!parsed) return webhook_verdict::malformed;
  const auto expected = webhook_hmac(secret, parsed->timestamp, body);
  // Constant time, so the comparison does not reveal how many leading digits matched.
  if (CRYPTO_memcmp(expected.data(), parsed->signature.data(), expected.size()) != 0) {
    return webhook_verdict::bad_signature;
  }
  const auto age = now - parsed->timestamp;
  if (age > tolerance.count() || -age > tolerance.count()) return webhook_verdict::stale;
  if (cache == nullptr) return webhook_verdict::valid;
  return cache->remember(parsed->signature, parsed->timestamp + tolerance.count(), now);
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace cqrs::core::security
