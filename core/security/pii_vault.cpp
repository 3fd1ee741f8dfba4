#include "core/security/pii_vault.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "core/errors.hpp"

namespace cqrs::core::security {

const std::string& pii_value::text() const {
  if (state_ != state::plain) throw std::logic_error("pii_value holds no plaintext");
  return text_;
}

const refusal& pii_value::problem() const {
  if (state_ != state::unreadable) throw std::logic_error("pii_value is not unreadable");
  return *problem_;
}

std::string_view pii_value::shown() const {
  if (state_ == state::erased) return erased_marker;
  return text();
}

pii_vault::pii_vault(key_store& store, master_keyring ring, vault_options options)
    : store_(store), ring_(std::move(ring)), options_(options) {}

std::optional<std::optional<data_key>> pii_vault::cached(std::string_view subject) {
  if (options_.cache_ttl.count() <= 0) return std::nullopt;
  const std::lock_guard lock(mutex_);
  const auto found = cache_.find(std::string(subject));
  if (found == cache_.end()) return std::nullopt;
  if (found->second.expires <= std::chrono::steady_clock::now()) {
    cache_.erase(found);
    return std::nullopt;
  }
  return found->second.key;
}

void pii_vault::remember(std::string_view subject, const std::optional<data_key>& key, std::uint64_t epoch_before) {
  if (options_.cache_ttl.count() <= 0) return;
  const std::lock_guard lock(mutex_);
  if (forget_epoch_ != epoch_before) return;  // a forget ran meanwhile: this key may be its victim
  if (cache_.size() >= options_.cache_entries) cache_.clear();
  cache_.insert_or_assign(std::string(subject), cache_entry{key, std::chrono::steady_clock::now() + options_.cache_ttl});
}

std::optional<data_key> pii_vault::from_stored(std::string_view subject, const stored_key& stored) const {
  if (std::holds_alternative<key_destroyed>(stored)) return std::nullopt;
  const auto& row = std::get<wrapped_key>(stored);
  return unwrap_data_key(ring_, subject, row.key_id, row.wrapped);
}

std::optional<data_key> pii_vault::key_for_open(std::string_view subject) {
  if (auto hit = cached(subject)) return std::move(*hit);
  const auto epoch = [this] {
    const std::lock_guard lock(mutex_);
    return forget_epoch_;
  }();
  const auto stored = store_.load(subject);
  if (!stored) {
    throw store_error(failure_kind::unexpected,
                      fmt::format("no data key for subject '{}': is the key store the right database?", subject));
  }
  auto key = from_stored(subject, *stored);
  remember(subject, key, epoch);
  return key;
}

std::optional<data_key> pii_vault::key_for_seal(std::string_view subject) {
  if (auto hit = cached(subject)) return std::move(*hit);
  const auto epoch = [this] {
    const std::lock_guard lock(mutex_);
    return forget_epoch_;
  }();
  auto stored = store_.load(subject);
  if (!stored) {
    const auto fresh = data_key::generate();
    stored = store_.create(wrapped_key{std::string(subject), fresh.id, wrap_data_key(ring_, subject, fresh)});
  }
  auto key = from_stored(subject, *stored);
  remember(subject, key, epoch);
  return key;
}

result<std::string> pii_vault::seal(std::string_view subject, const field_context& where, std::string_view plaintext) {
  const auto key = key_for_seal(subject);
  if (!key) return refusal{errc::subject_forgotten, "the subject was forgotten: its personal data cannot be stored"};
  return seal_field(*key, where, plaintext);
}

pii_value pii_vault::open(std::string_view subject, const field_context& where, std::string_view sealed) {
  if (const auto id = sealed_key_id(sealed); !id) return pii_value::unreadable(id.error());
  const auto key = key_for_open(subject);
  if (!key) return pii_value::erased();
  auto plaintext = open_field(*key, where, sealed);
  if (!plaintext) return pii_value::unreadable(plaintext.error());
  return pii_value::plain(std::move(plaintext).value());
}

void pii_vault::forget(std::string_view subject) {
  {
    const std::lock_guard lock(mutex_);
    ++forget_epoch_;
    cache_.erase(std::string(subject));
  }
  store_.destroy(subject);
  const std::lock_guard lock(mutex_);
  ++forget_epoch_;  // a load that read the row before the destroy must not cache it
  cache_.erase(std::string(subject));
}

namespace {

// After a compare-and-set that did not replace: destroyed meanwhile, already re-wrapped (by a
// retried statement or a second rotation), or something this rotation cannot explain.
void account_lost_race(key_store& store, const master_keyring& ring, const wrapped_key& row, rotation_report& report) {
  const auto now = store.load(row.subject);
  if (!now || std::holds_alternative<key_destroyed>(*now)) {
    ++report.destroyed_meanwhile;
    return;
  }
  if (wrapped_master_id(std::get<wrapped_key>(*now).wrapped) == ring.current_id()) {
    ++report.rewrapped;
    return;
  }
  throw store_error(failure_kind::unexpected, fmt::format("the data key of '{}' changed during the rotation", row.subject));
}

}  // namespace

rotation_report rotate_master_key(key_store& store, const master_keyring& ring, std::size_t page_size) {
  rotation_report report;
  std::string after;
  while (true) {
    const auto page = store.list_after(after, page_size);
    for (const auto& row : page) {
      if (wrapped_master_id(row.wrapped) == ring.current_id()) {
        ++report.already_current;
        continue;
      }
      const auto key = unwrap_data_key(ring, row.subject, row.key_id, row.wrapped);
      if (store.rewrap(row.subject, row.wrapped, wrap_data_key(ring, row.subject, key))) {
        ++report.rewrapped;
      } else {
        account_lost_race(store, ring, row, report);
      }
    }
    if (page.size() < page_size) return report;
    after = page.back().subject;
  }
}

}  // namespace cqrs::core::security
