#pragma once

// Field-by-field encryption of personal data, and the wrapping of data keys by the master key.
// Both are AES-256-GCM (OpenSSL 3 EVP) with a random 96-bit nonce and a 128-bit tag.
//
// A sealed field is the ASCII text `pii1.<data key id>.<base64url(nonce | ciphertext | tag)>`,
// authenticated with the stream id and the field name as associated data: a field copied into
// another stream or under another field name does not open. The data key id (16 hex digits)
// tells which of a subject's data keys sealed it.
//
// A wrapped data key is `wk1.<master key id>.<base64url(nonce | ciphertext | tag)>`, authenticated
// with the subject and the data key id, so a wrapped key moved to another subject does not unwrap.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/security/errc.hpp"
#include "core/security/secret.hpp"

namespace cqrs::core::security {

// Where a field lives: its associated data.
struct field_context {
  std::string_view stream;  // the stream id ("user-42"), also used by read models holding the field
  std::string_view field;   // "email", "name", "phone", "address"
};

// One subject's data key and its id (random, not derived from the key).
struct data_key {
  std::string id;  // 16 hex digits
  key256 key;

  static data_key generate();
};

std::string seal_field(const data_key& key, const field_context& where, std::string_view plaintext);

// The data key id a sealed text names, or a sealed_malformed refusal.
result<std::string> sealed_key_id(std::string_view sealed);

// sealed_malformed, sealed_wrong_key (another data key id) or sealed_not_authentic (wrong
// stream, field or key, or altered text); never throws for any input text.
result<std::string> open_field(const data_key& key, const field_context& where, std::string_view sealed);

// The master keys a process holds: the current one wraps, any of them unwraps (so a rotation can
// run while processes hold both the new key and the previous one).
class master_keyring {
 public:
  explicit master_keyring(key256 current, std::vector<key256> older = {});

  const key256& current() const { return keys_.front(); }
  const std::string& current_id() const { return ids_.front(); }
  // A ring whose current key is `next`, holding every key of this one as older keys.
  master_keyring rotated_to(key256 next) const;
  // The key with this id, or nullptr.
  const key256* find(std::string_view id) const;

 private:
  std::vector<key256> keys_;
  std::vector<std::string> ids_;
};

// `wk1.<current master key id>.<...>`.
std::string wrap_data_key(const master_keyring& ring, std::string_view subject, const data_key& key);

// The master key id a wrapped text names (to skip rows already wrapped by the new key), or nothing.
std::optional<std::string> wrapped_master_id(std::string_view wrapped);

// Throws crypto_error when no key of the ring can unwrap it (a missing master key, or a corrupt or
// moved row): that is a broken configuration, never an erased subject.
data_key unwrap_data_key(const master_keyring& ring, std::string_view subject, std::string_view data_key_id,
                         std::string_view wrapped);

}  // namespace cqrs::core::security
