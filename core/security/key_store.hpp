#pragma once

// Where wrapped data keys live: apart from the event store and the read models (its own
// PostgreSQL database, pg_key_store.hpp; an external KMS in production), so that event-store
// backups and WAL never hold them. One row per subject. Destroying a subject's key leaves a
// tombstone: the subject can never get a data key again, so nothing sealed for it afterwards
// could be read by someone holding an old copy of the event store, and a late command for a
// forgotten user is refused instead of silently starting a new key.
//
// Implementations are thread-safe. Failures of the store itself are exceptions (store_error).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cqrs::core::security {

struct wrapped_key {
  std::string subject;
  std::string key_id;   // the data key's id (pii_cipher.hpp)
  std::string wrapped;  // wk1.<master key id>.<...>
};

// The subject's key was destroyed (the subject was forgotten).
struct key_destroyed {};

using stored_key = std::variant<wrapped_key, key_destroyed>;

class key_store {
 public:
  virtual ~key_store() = default;

  // Stores `candidate` unless the subject already has a row; returns the row that is stored
  // (the candidate, another creator's key when two raced, or the tombstone).
  virtual stored_key create(const wrapped_key& candidate) = 0;

  // Nothing when the subject never had a key.
  virtual std::optional<stored_key> load(std::string_view subject) = 0;

  // Destroys the subject's wrapped key, leaving a tombstone (also for a subject without a key).
  // Idempotent.
  virtual void destroy(std::string_view subject) = 0;

  // Live keys (not destroyed) with subjects after `after`, in subject order, at most `limit`.
  virtual std::vector<wrapped_key> list_after(std::string_view after, std::size_t limit) = 0;

  // Replaces a key's wrapping if the row still holds `old_wrapped` (compare-and-set, so a
  // concurrent destroy wins). Whether it replaced.
  virtual bool rewrap(std::string_view subject, std::string_view old_wrapped, std::string_view new_wrapped) = 0;
};

}  // namespace cqrs::core::security
