#pragma once

// A keyed blind index: finds a record by a secret value without storing the value. The email's
// index is HMAC-SHA-256 (libsodium) over the normalised address under a key of its own
// (CQRS_PII_INDEX_KEY_FILE, never the master key), written as 64 lowercase hex digits: the one
// form the User aggregate checks and stores (events, claims, read models), so every caller passes
// it on unchanged. It backs the uniqueness of emails, login and the lookup route. Without the key, an index cannot be
// tested against guessed addresses; with it, it can, so the index key is a secret like the master
// key. Changing it means recomputing every index from the decrypted addresses.
//
// The index outlives a forgotten user's data key: keep it only where the user's own records are
// (it is personal data under a pseudonym), and drop it from uniqueness claims on forgetting.

#include <string>
#include <string_view>

#include "core/security/errc.hpp"
#include "core/security/secret.hpp"

namespace cqrs::core::security {

class blind_index {
 public:
  explicit blind_index(key256 key) : key_(std::move(key)) {}

  // The index of an address already in normal form (normalise_email). A `purpose` label keeps the
  // indexes of different kinds of value apart under one key.
  std::string of_normalised(std::string_view normalised, std::string_view purpose = "email") const;

  // Normalises then indexes: the refusal is normalise_email's.
  result<std::string> of_email(std::string_view address) const;

 private:
  key256 key_;
};

}  // namespace cqrs::core::security
