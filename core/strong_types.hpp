#pragma once

// Strong numeric types: a stream version cannot be passed where a count, a sequence number or a
// schema version is expected. Header-only because it is one tiny template.

#include <compare>
#include <cstdint>

namespace cqrs::core {

template <typename T, typename Tag>
class strong_value {
 public:
  constexpr strong_value() = default;
  constexpr explicit strong_value(T value) : value_(value) {}

  constexpr T value() const { return value_; }
  constexpr auto operator<=>(const strong_value&) const = default;

 private:
  T value_{};
};

// The number of events in a stream, and the version of its latest event: versions run 1, 2, 3, ...
// without gaps; 0 means the stream has no events (does not exist).
using stream_version = strong_value<std::int64_t, struct stream_version_tag>;

}  // namespace cqrs::core
