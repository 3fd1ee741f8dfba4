#pragma once

// Personal fields of forgotten users as `cqrs replay` and `cqrs state` show them. A field sealed
// for a subject whose data key is destroyed can never be opened again: it is shown as the erased
// marker ("[erased]", core/security/pii_vault.hpp), never as ciphertext and never as an error.
// A sealed field is a string `pii1.<key id>.<...>` (core/security/pii_cipher.hpp) anywhere in the
// JSON shown; the subject it was sealed for is the id of the stream that holds it (`<category>-<id>`:
// a user's fields are sealed for the user, in the user's stream).
//
// Whether a subject's key is destroyed is asked of the key store (CQRS_PII_KEYSTORE_URL), once
// per subject and run, only for streams whose data holds sealed fields. Without a key store nothing is replaced: the sealed text is shown as
// stored (unreadable without the keys either way).

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/value.hpp>

#include "core/config.hpp"
#include "core/ids.hpp"
#include "core/security/key_store.hpp"

namespace cqrs::tools::cli {

class erased_fields {
 public:
  // The settings replay and state accept for it (CQRS_PII_KEYSTORE_URL).
  static std::vector<core::setting_spec> settings();

  explicit erased_fields(const core::settings_source& source);

  // Whether `text` (an event's payload, a state's JSON) holds sealed fields of the stream's subject
  // whose data key is destroyed.
  bool erased(const core::stream_id& stream, std::string_view text);
  // Replaces every sealed string in `json` by the marker; the number replaced.
  static std::size_t redact(boost::json::value& json);

 private:
  std::string keystore_url_;
  std::unique_ptr<core::security::key_store> keys_;  // opened at the first sealed field
  std::unordered_map<std::string, bool> known_;  // subject -> destroyed (bounded: cleared past 100,000)
};

}  // namespace cqrs::tools::cli
