#pragma once

// The key store in a PostgreSQL database of its own (CQRS_PII_KEYSTORE_URL), never the event
// store's: its backups and WAL must be kept only briefly, since an erased subject's wrapped key
// lives on in them until they expire (docs/security.md). The table `pii_data_keys` is created on
// first use (under an advisory lock, so several processes may start at once).
//
// One connection, used by one thread at a time (a mutex): key loads are rare next to field
// opens, since pii_vault caches unwrapped keys briefly.

#include <mutex>
#include <string>

#include "core/pg_connection.hpp"
#include "core/security/key_store.hpp"

namespace cqrs::core::security {

class pg_key_store final : public key_store {
 public:
  explicit pg_key_store(std::string url);
  pg_key_store(const pg_key_store&) = delete;
  pg_key_store& operator=(const pg_key_store&) = delete;

  stored_key create(const wrapped_key& candidate) override;
  std::optional<stored_key> load(std::string_view subject) override;
  void destroy(std::string_view subject) override;
  std::vector<wrapped_key> list_after(std::string_view after, std::size_t limit) override;
  bool rewrap(std::string_view subject, std::string_view old_wrapped, std::string_view new_wrapped) override;

 private:
  std::optional<stored_key> load_locked(std::string_view subject);

  std::mutex mutex_;
  pg_connection connection_;
};

}  // namespace cqrs::core::security
