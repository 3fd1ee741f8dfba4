#pragma once

// The security settings, validated like every other (core/config.hpp): where the keys are, where
// the key store is, and the cost and bulkhead of password hashing.
//
//   CQRS_PII_MASTER_KEY_FILE           wraps the data keys (required once PII is stored)
//   CQRS_PII_PREVIOUS_MASTER_KEY_FILE  an older master key, still accepted to unwrap (rotation)
//   CQRS_PII_INDEX_KEY_FILE            the blind index's key, distinct from the master key
//   CQRS_PII_KEYSTORE_URL              the key store: its own PostgreSQL database, or file:///dir
//   CQRS_PII_KEY_CACHE_MS              how long unwrapped data keys stay in memory (0: never)
//   CQRS_PASSWORD_THREADS, CQRS_PASSWORD_QUEUE, CQRS_ARGON2_MEMORY_KIB, CQRS_ARGON2_PASSES

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/security/blind_index.hpp"
#include "core/security/key_store.hpp"
#include "core/security/password.hpp"
#include "core/security/password_pool.hpp"
#include "core/security/pii_cipher.hpp"
#include "core/security/pii_vault.hpp"

namespace cqrs::core::security {

struct pii_config {
  std::filesystem::path master_key_file;
  std::optional<std::filesystem::path> previous_master_key_file;
  std::filesystem::path index_key_file;
  std::string keystore_url;
  vault_options vault;
};

struct password_config {
  argon2_params argon2;
  password_pool_options pool;
};

const std::vector<setting_spec>& security_settings();

// Nothing when CQRS_PII_MASTER_KEY_FILE is unset (a deployment that stores no personal data);
// once it is set, the index key file and the key store URL are required too. Files are not read
// here: read_pii_keys() does.
std::optional<pii_config> load_pii_config(const settings_source& source);

// Argon2 below OWASP's minimum (19 MiB, 2 passes) is refused.
password_config load_password_config(const settings_source& source);

struct pii_keys {
  master_keyring ring;
  blind_index index;
};

// Reads the key files; config_error naming the variable when one is unreadable, malformed or
// readable by everyone, or when the index key is the master key.
pii_keys read_pii_keys(const pii_config& config);

// The key store CQRS_PII_KEYSTORE_URL names: pg_key_store for postgresql://, file_key_store for
// file:///absolute/directory.
std::unique_ptr<key_store> open_key_store(const pii_config& config);

}  // namespace cqrs::core::security
