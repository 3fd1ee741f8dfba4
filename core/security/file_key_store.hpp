#pragma once

// The key store as a directory of files (CQRS_PII_KEYSTORE_URL=file:///path), for a single host
// and for development: no database to run. One file per subject, named by a hash of the subject.
// Creating is atomic across processes (link(2) refuses an existing name, so two creators end up
// with one key); destroying and re-wrapping replace the file atomically (rename(2)) under an
// exclusive lock (flock on `.lock`). Listing reads the whole directory: fine for thousands of
// subjects, not for millions (use the PostgreSQL store, or a KMS).
//
// Destroying overwrites the old file with zeros before replacing it, but a journaling or
// copy-on-write file system, an SSD's wear levelling and file-system snapshots may keep the old
// bytes: as for the PostgreSQL store, an erasure is complete once the old master key is destroyed
// or every copy has expired (docs/security.md).

#include <filesystem>

#include "core/security/key_store.hpp"

namespace cqrs::core::security {

class file_key_store final : public key_store {
 public:
  // Creates the directory (mode 0700) if needed.
  explicit file_key_store(std::filesystem::path directory);

  stored_key create(const wrapped_key& candidate) override;
  std::optional<stored_key> load(std::string_view subject) override;
  void destroy(std::string_view subject) override;
  std::vector<wrapped_key> list_after(std::string_view after, std::size_t limit) override;
  bool rewrap(std::string_view subject, std::string_view old_wrapped, std::string_view new_wrapped) override;

 private:
  std::filesystem::path file_of(std::string_view subject) const;
  void replace(const std::filesystem::path& target, const std::string& contents) const;

  std::filesystem::path directory_;
};

}  // namespace cqrs::core::security
