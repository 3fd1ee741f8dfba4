#include "core/security/security_config.hpp"

#include <fmt/format.h>

#include "core/security/file_key_store.hpp"
#include "core/security/pg_key_store.hpp"

namespace cqrs::core::security {

namespace {

constexpr std::int64_t owasp_memory_kib = 19 * 1024;
constexpr std::string_view file_scheme = "file://";

key256 read_key(const std::filesystem::path& path, const char* variable) {
  try {
    return read_key_file(path);
  } catch (const key_file_error& e) {
    throw config_error(variable, e.what());
  }
}

}  // namespace

const std::vector<setting_spec>& security_settings() {
  static const std::vector<setting_spec> specs = {
      {"CQRS_PII_MASTER_KEY_FILE", "", "file of the master key wrapping the data keys (cqrs keys generate)"},
      {"CQRS_PII_PREVIOUS_MASTER_KEY_FILE", "", "an older master key still accepted to unwrap, during a rotation"},
      {"CQRS_PII_INDEX_KEY_FILE", "", "file of the email blind index's key, distinct from the master key"},
      {"CQRS_PII_KEYSTORE_URL", "",
       "the key store: its own PostgreSQL database (never the event store's), or file:///directory"},
      {"CQRS_PII_KEY_CACHE_MS", "30000", "milliseconds an unwrapped data key stays in memory (0: not cached)"},
      {"CQRS_PASSWORD_THREADS", "0", "threads hashing passwords (0: one per core)"},
      {"CQRS_PASSWORD_QUEUE", "64", "password jobs waiting beyond the running ones; more are refused (503)"},
      {"CQRS_ARGON2_MEMORY_KIB", "19456", "argon2id memory in KiB (at least 19456, OWASP's minimum)"},
      {"CQRS_ARGON2_PASSES", "2", "argon2id passes over memory (at least 2)"},
  };
  return specs;
}

std::optional<pii_config> load_pii_config(const settings_source& source) {
  const auto master = source.raw("CQRS_PII_MASTER_KEY_FILE");
  if (!master) return std::nullopt;
  pii_config config;
  config.master_key_file = *master;
  if (const auto previous = source.raw("CQRS_PII_PREVIOUS_MASTER_KEY_FILE")) config.previous_master_key_file = *previous;
  config.index_key_file = source.required_text("CQRS_PII_INDEX_KEY_FILE");
  config.keystore_url = source.url("CQRS_PII_KEYSTORE_URL", "", {"postgresql", "postgres", "file"});
  if (config.keystore_url.starts_with(file_scheme) && !config.keystore_url.starts_with("file:///")) {
    throw config_error("CQRS_PII_KEYSTORE_URL", "a file key store is file:///absolute/directory");
  }
  if (const auto events = source.raw("CQRS_PG_URL"); events && *events == config.keystore_url) {
    throw config_error("CQRS_PII_KEYSTORE_URL",
                       "must name a database of its own, not the event store's (CQRS_PG_URL): its backups must expire quickly");
  }
  config.vault.cache_ttl = source.milliseconds("CQRS_PII_KEY_CACHE_MS", std::chrono::milliseconds(30'000),
                                               std::chrono::milliseconds(0), std::chrono::milliseconds(3'600'000));
  return config;
}

password_config load_password_config(const settings_source& source) {
  password_config config;
  config.pool.threads = static_cast<int>(source.integer("CQRS_PASSWORD_THREADS", 0, 0, 256));
  config.pool.queue_limit = static_cast<std::size_t>(source.integer("CQRS_PASSWORD_QUEUE", 64, 0, 100'000));
  const auto kib = source.integer("CQRS_ARGON2_MEMORY_KIB", owasp_memory_kib, owasp_memory_kib, 4 * 1024 * 1024);
  config.argon2.mem_limit = static_cast<std::size_t>(kib) * 1024;
  config.argon2.ops_limit = static_cast<std::uint64_t>(source.integer("CQRS_ARGON2_PASSES", 2, 2, 64));
  return config;
}

pii_keys read_pii_keys(const pii_config& config) {
  auto master = read_key(config.master_key_file, "CQRS_PII_MASTER_KEY_FILE");
  std::vector<key256> older;
  if (config.previous_master_key_file) {
    older.push_back(read_key(*config.previous_master_key_file, "CQRS_PII_PREVIOUS_MASTER_KEY_FILE"));
  }
  auto index = read_key(config.index_key_file, "CQRS_PII_INDEX_KEY_FILE");
  if (index.same_as(master)) {
    throw config_error("CQRS_PII_INDEX_KEY_FILE", "holds the master key: the blind index needs a key of its own");
  }
  return pii_keys{master_keyring(std::move(master), std::move(older)), blind_index(std::move(index))};
}

std::unique_ptr<key_store> open_key_store(const pii_config& config) {
  if (config.keystore_url.starts_with(file_scheme)) {
    return std::make_unique<file_key_store>(config.keystore_url.substr(file_scheme.size()));
  }
  return std::make_unique<pg_key_store>(config.keystore_url);
}

}  // namespace cqrs::core::security
