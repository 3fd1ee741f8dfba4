#pragma once

// Refresh tokens: opaque random values (32 bytes from libsodium, base64url, 43 characters) of
// which only a hash is stored, grouped in families. Each refresh rotates the token: the presented
// one is marked used and a successor in the same family is issued. Presenting a used token again
// revokes its whole family (RFC 9700, section 4.14.2): either the thief or the rightful client
// then holds a dead token, and the rightful user signs in again.
//
// pg_refresh_tokens keeps them in the event store's database (migration 0050_refresh_tokens.sql).

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/pg_connection.hpp"
#include "core/security/errc.hpp"

namespace cqrs::core::security {

struct fresh_token {
  std::string token;  // given to the client once, never stored
  std::string hash;   // stored
};

// A new token and its hash.
fresh_token generate_refresh_token();

// The hash of a presented token (BLAKE2b-256, 64 hex digits), or refresh_token_malformed when it
// is not 43 characters of base64url.
result<std::string> refresh_token_hash(std::string_view token);

// A new family id: 32 hex digits of randomness.
std::string new_token_family();

struct issued_token {
  std::string token;
  std::string family;
  std::string subject;
};

struct token_family {
  std::string family;
  std::string subject;
};

enum class refresh_refusal {
  unknown,   // never issued here (or deleted)
  expired,
  revoked,   // its family was revoked (logout, forget, an earlier reuse)
  reused,    // already used: the family is now revoked
};

std::string_view to_string(refresh_refusal refusal);

using rotation_outcome = std::variant<issued_token, refresh_refusal>;

class pg_refresh_tokens {
 public:
  explicit pg_refresh_tokens(std::string url);
  pg_refresh_tokens(const pg_refresh_tokens&) = delete;
  pg_refresh_tokens& operator=(const pg_refresh_tokens&) = delete;

  // A new family for `subject` (a sign-in).
  issued_token issue(std::string_view subject, std::chrono::seconds ttl);

  // Rotates a presented token. A malformed token is `unknown`. Not retried after a commit of
  // unknown outcome (store_error in_doubt): a retry would see its own first attempt as a reuse.
  rotation_outcome rotate(std::string_view presented, std::chrono::seconds ttl);

  // The family and subject of a token by its stored hash (refresh_token_hash), whatever its state
  // (used, expired, revoked); nothing when no such token was issued here.
  std::optional<token_family> family_of(std::string_view hash);

  // Revocations; the number of tokens revoked.
  std::size_t revoke_family(std::string_view family);
  std::size_t revoke_subject(std::string_view subject);

 private:
  pg_connection connection_;
};

}  // namespace cqrs::core::security
