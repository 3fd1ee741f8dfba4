#pragma once

// Identities of the event store: stream ids (`category-id`) and event ids (UUIDs). Both are only
// built through validating factories, so holding one means it is well-formed.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/errors.hpp"
#include "core/strong_types.hpp"

namespace cqrs::core {

// `[A-Za-z][A-Za-z0-9_]*`: the part of a stream id before the first '-'.
bool is_valid_category(std::string_view text);

// A stream's name, `category-id` as in Message DB: the category is `[A-Za-z][A-Za-z0-9_]*`, then
// '-', then a non-empty id of URL-safe characters (`[A-Za-z0-9._~-]`, so it may contain '-'), at
// most max_length characters in all. URL-safe so that it can appear in paths unescaped.
class stream_id {
 public:
  static constexpr std::size_t max_length = 200;

  static result<stream_id> parse(std::string_view text);
  // For ids read back from the store, which validated them when they were appended.
  static stream_id trusted(std::string text) { return stream_id(std::move(text)); }

  const std::string& str() const { return text_; }
  std::string_view category() const;

  auto operator<=>(const stream_id&) const = default;

 private:
  explicit stream_id(std::string text) : text_(std::move(text)) {}

  std::string text_;
};

// An event's UUID. Callers may choose it (to make a retried append recognisable); otherwise the
// store generates a time-ordered one (version 7: milliseconds since the epoch, then random bits).
class event_id {
 public:
  using bytes_type = std::array<std::uint8_t, 16>;

  static event_id generate();
  // Canonical lowercase or uppercase form, 8-4-4-4-12 hex digits.
  static result<event_id> parse(std::string_view text);
  static event_id from_bytes(const bytes_type& bytes) { return event_id(bytes); }

  // Canonical lowercase form.
  std::string to_string() const;
  const bytes_type& bytes() const { return bytes_; }

  auto operator<=>(const event_id&) const = default;

 private:
  explicit event_id(const bytes_type& bytes) : bytes_(bytes) {}

  bytes_type bytes_{};
};

}  // namespace cqrs::core
