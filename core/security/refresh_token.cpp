#include "core/security/refresh_token.hpp"

#include <sodium.h>

#include <array>

#include <pqxx/connection_base>
#include <pqxx/result>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "core/security/secret.hpp"

namespace cqrs::core::security {

namespace {

constexpr std::size_t token_bytes = 32;
constexpr std::size_t token_chars = 43;  // base64url of 32 bytes, no padding

std::string hash_of(std::string_view token) {
  ensure_sodium();
  std::array<unsigned char, crypto_generichash_BYTES> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                     nullptr, 0);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

void prepare(pqxx::connection_base& c) {
  c.prepare("refresh_insert",
            "INSERT INTO refresh_tokens (token_hash, family_id, subject, expires_at) "
            "VALUES ($1, $2, $3, now() + make_interval(secs => $4))");
  c.prepare("refresh_lock",
            "SELECT family_id, subject, expires_at <= now(), used_at IS NOT NULL, revoked_at IS NOT NULL "
            "FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE");
  c.prepare("refresh_mark_used", "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1");
  c.prepare("refresh_family_of", "SELECT family_id, subject FROM refresh_tokens WHERE token_hash = $1");
  c.prepare("refresh_revoke_family",
            "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL");
  c.prepare("refresh_revoke_subject",
            "UPDATE refresh_tokens SET revoked_at = now() WHERE subject = $1 AND revoked_at IS NULL");
}

}  // namespace

fresh_token generate_refresh_token() {
  auto token = base64url_encode(random_bytes(token_bytes));
  auto hash = hash_of(token);
  return fresh_token{std::move(token), std::move(hash)};
}

result<std::string> refresh_token_hash(std::string_view token) {
  if (token.size() != token_chars || !base64url_decode(token)) {
    return refusal{errc::refresh_token_malformed, "a refresh token is 43 characters of base64url"};
  }
  return hash_of(token);
}

std::string new_token_family() { return hex_encode(random_bytes(16)); }

std::string_view to_string(refresh_refusal refusal) {
  switch (refusal) {
    case refresh_refusal::unknown: return "unknown";
    case refresh_refusal::expired: return "expired";
    case refresh_refusal::revoked: return "revoked";
    case refresh_refusal::reused: return "reused";
  }
  return "unknown";
}

pg_refresh_tokens::pg_refresh_tokens(std::string url) : connection_(std::move(url), prepare) {}

issued_token pg_refresh_tokens::issue(std::string_view subject, std::chrono::seconds ttl) {
  const auto fresh = generate_refresh_token();
  issued_token issued{fresh.token, new_token_family(), std::string(subject)};
  // A random 256-bit hash cannot collide with another; a retried insert that had committed would
  // fail on the primary key, so an in-doubt commit is not retried.
  connection_.run(statement_effect::may_have_committed, [&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    tx.exec_prepared("refresh_insert", fresh.hash, issued.family, issued.subject, static_cast<double>(ttl.count()));
  });
  return issued;
}

rotation_outcome pg_refresh_tokens::rotate(std::string_view presented, std::chrono::seconds ttl) {
  const auto hash = refresh_token_hash(presented);
  if (!hash) return refresh_refusal::unknown;
  rotation_outcome outcome = refresh_refusal::unknown;
  connection_.run(statement_effect::may_have_committed, [&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    const auto rows = tx.exec_prepared("refresh_lock", hash.value());
    if (rows.empty()) {
      outcome = refresh_refusal::unknown;
      return;
    }
    const auto family = rows[0][0].as<std::string>();
    const auto subject = rows[0][1].as<std::string>();
    if (rows[0][4].as<bool>()) {
      outcome = refresh_refusal::revoked;
    } else if (rows[0][3].as<bool>()) {
      tx.exec_prepared("refresh_revoke_family", family);
      tx.commit();
      outcome = refresh_refusal::reused;
    } else if (rows[0][2].as<bool>()) {
      outcome = refresh_refusal::expired;
    } else {
      const auto next = generate_refresh_token();
      tx.exec_prepared("refresh_mark_used", hash.value());
      tx.exec_prepared("refresh_insert", next.hash, family, subject, static_cast<double>(ttl.count()));
      tx.commit();
      outcome = issued_token{next.token, family, subject};
    }
  });
  return outcome;
}

std::optional<token_family> pg_refresh_tokens::family_of(std::string_view hash) {
  std::optional<token_family> found;
  connection_.run(statement_effect::none_on_failure, [&](pqxx::connection_base& c) {
    pqxx::read_transaction tx(c);
    const auto rows = tx.exec_prepared("refresh_family_of", std::string(hash));
    if (!rows.empty()) found = token_family{rows[0][0].as<std::string>(), rows[0][1].as<std::string>()};
  });
  return found;
}

std::size_t pg_refresh_tokens::revoke_family(std::string_view family) {
  std::size_t revoked = 0;
  connection_.run(statement_effect::none_on_failure, [&](pqxx::connection_base& c) {  // idempotent
    pqxx::nontransaction tx(c);
    revoked = tx.exec_prepared("refresh_revoke_family", std::string(family)).affected_rows();
  });
  return revoked;
}

std::size_t pg_refresh_tokens::revoke_subject(std::string_view subject) {
  std::size_t revoked = 0;
  connection_.run(statement_effect::none_on_failure, [&](pqxx::connection_base& c) {  // idempotent
    pqxx::nontransaction tx(c);
    revoked = tx.exec_prepared("refresh_revoke_subject", std::string(subject)).affected_rows();
  });
  return revoked;
}

}  // namespace cqrs::core::security
