#pragma once

// Personal data sealed field by field with one data key per subject (a user), the data keys
// wrapped by the master key and kept in the key store. Forgetting a subject destroys its data
// key: from then on every copy of its sealed fields (events, Kafka messages, read models,
// backups) opens as the typed `erased` value, never as an error.
//
// Unwrapped keys are cached in memory briefly (vault_options::cache_ttl, 0 disables the cache)
// to spare the key store one round trip per field. forget() empties this process's cache entry
// and no load that raced it can put the key back; other processes may open the subject's fields
// until their own entries expire (at most cache_ttl after the forget).
//
// Make one vault per process and share it: forget() clears only its own vault's cache.
//
// Thread-safe. Key store failures are exceptions (store_error), as are a missing master key and a
// sealed field whose subject never had a key (a key store that is not the right database).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/security/errc.hpp"
#include "core/security/key_store.hpp"
#include "core/security/pii_cipher.hpp"

namespace cqrs::core::security {

// What readers show in place of an erased field (read models, the CLI, the API's JSON).
inline constexpr std::string_view erased_marker = "[erased]";

// An opened field: its plaintext, `erased` (the subject was forgotten) or `unreadable` (the text
// is malformed, or belongs to another stream or field: a refusal naming why).
class pii_value {
 public:
  enum class state { plain, erased, unreadable };

  static pii_value plain(std::string text) { return pii_value(state::plain, std::move(text), {}); }
  static pii_value erased() { return pii_value(state::erased, {}, {}); }
  static pii_value unreadable(refusal why) { return pii_value(state::unreadable, {}, std::move(why)); }

  state which() const { return state_; }
  bool is_plain() const { return state_ == state::plain; }
  bool is_erased() const { return state_ == state::erased; }
  // The plaintext; std::logic_error unless is_plain().
  const std::string& text() const;
  // Why it is unreadable; std::logic_error unless which() == state::unreadable.
  const refusal& problem() const;
  // The plaintext, or erased_marker for an erased field; std::logic_error when unreadable.
  std::string_view shown() const;

 private:
  pii_value(state s, std::string text, std::optional<refusal> why)
      : state_(s), text_(std::move(text)), problem_(std::move(why)) {}
  state state_;
  std::string text_;
  std::optional<refusal> problem_;
};

struct vault_options {
  std::chrono::milliseconds cache_ttl{30'000};
  std::size_t cache_entries = 10'000;  // past this the cache is emptied (a bound, not an LRU)
};

class pii_vault {
 public:
  pii_vault(key_store& store, master_keyring ring, vault_options options = {});
  pii_vault(const pii_vault&) = delete;
  pii_vault& operator=(const pii_vault&) = delete;

  // Seals one field for `subject`, creating its data key on first use (two creators racing get the
  // same key). Refused with subject_forgotten once the subject was forgotten.
  result<std::string> seal(std::string_view subject, const field_context& where, std::string_view plaintext);

  // Opens one field sealed for `subject`. Never throws for any text of `sealed`.
  pii_value open(std::string_view subject, const field_context& where, std::string_view sealed);

  // Destroys the subject's data key (idempotent). Record the UserForgotten event first: the event
  // says why the fields read as erased.
  void forget(std::string_view subject);

  const master_keyring& keyring() const { return ring_; }

 private:
  // The subject's key: nothing when it was destroyed. Throws when the subject has no key at all.
  std::optional<data_key> key_for_open(std::string_view subject);
  std::optional<data_key> key_for_seal(std::string_view subject);
  std::optional<data_key> from_stored(std::string_view subject, const stored_key& stored) const;

  struct cache_entry {
    std::optional<data_key> key;  // nothing: destroyed (a permanent answer, cached like a key)
    std::chrono::steady_clock::time_point expires;
  };
  std::optional<std::optional<data_key>> cached(std::string_view subject);
  void remember(std::string_view subject, const std::optional<data_key>& key, std::uint64_t epoch_before);

  key_store& store_;
  master_keyring ring_;
  vault_options options_;
  std::mutex mutex_;
  std::unordered_map<std::string, cache_entry> cache_;
  std::uint64_t forget_epoch_ = 0;  // under mutex_; a load that saw another epoch is not cached
};

struct rotation_report {
  std::size_t rewrapped = 0;         // now wrapped by the ring's current key
  std::size_t already_current = 0;   // were wrapped by it before
  std::size_t destroyed_meanwhile = 0;
};

// Re-wraps every live data key not wrapped by ring.current() (`cqrs keys rotate-master`): the
// ring must also hold the key(s) they are wrapped by now. Sealed fields and events are untouched
// (the data keys themselves do not change). Safe to run again after an interruption.
rotation_report rotate_master_key(key_store& store, const master_keyring& ring, std::size_t page_size = 500);

}  // namespace cqrs::core::security
