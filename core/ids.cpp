#include "core/ids.hpp"

#include <chrono>
#include <random>

#include <fmt/format.h>

namespace cqrs::core {

namespace {

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_category_char(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }
// RFC 3986 unreserved characters: safe in a URL path segment without escaping.
bool is_url_safe(char c) { return is_category_char(c) || c == '-' || c == '.' || c == '~'; }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Seeded once per thread from several random_device draws: a single 32-bit seed would make
// collisions between threads' generators plausible.
std::mt19937_64& thread_generator() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return generator;
}

}  // namespace

bool is_valid_category(std::string_view text) {
  if (text.empty() || !is_alpha(text.front())) return false;
  for (char c : text) {
    if (!is_category_char(c)) return false;
  }
  return true;
}

result<stream_id> stream_id::parse(std::string_view text) {
  if (text.size() > max_length) {
    return make_error(errc::invalid_stream_id, fmt::format("stream id longer than {} characters", max_length));
  }
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || !is_valid_category(text.substr(0, dash)) || dash + 1 == text.size()) {
    return make_error(errc::invalid_stream_id, "stream id must be category-id, the category [A-Za-z][A-Za-z0-9_]*");
  }
  for (char c : text.substr(dash + 1)) {
    if (!is_url_safe(c)) return make_error(errc::invalid_stream_id, "stream id has a character outside [A-Za-z0-9._~-]");
  }
  return stream_id(std::string(text));
}

std::string_view stream_id::category() const { return std::string_view(text_).substr(0, text_.find('-')); }

// Version 7 (RFC 9562): the Unix time in milliseconds, the sub-millisecond fraction in the next
// 12 bits (the RFC's method 3), then 62 random bits. Ids made close in time sit close in a
// B-tree: the events table's event_id index grows at its right edge, as the position index does,
// instead of dirtying a random leaf per insert (and, after each checkpoint, logging a full image
// of it), which is what a random id costs once the index no longer fits in memory.
event_id event_id::generate() {
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto unix_ms = static_cast<std::uint64_t>(now / 1'000'000);
  const auto fraction = static_cast<std::uint64_t>(now % 1'000'000) * 4096 / 1'000'000;  // 12 bits
  const std::uint64_t random = thread_generator()();
  bytes_type bytes{};
  for (std::size_t i = 0; i < 6; ++i) bytes[i] = static_cast<std::uint8_t>(unix_ms >> (40 - 8 * i));
  bytes[6] = static_cast<std::uint8_t>(0x70 | (fraction >> 8));  // version 7
  bytes[7] = static_cast<std::uint8_t>(fraction);
  for (std::size_t i = 0; i < 8; ++i) bytes[8 + i] = static_cast<std::uint8_t>(random >> (8 * i));
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC variant
  return event_id(bytes);
}

result<event_id> event_id::parse(std::string_view text) {
  bytes_type bytes{};
  std::size_t out = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position != (text[i] == '-')) break;
    if (dash_position) continue;
    if (out == 32 || hex_value(text[i]) < 0) break;
    bytes[out / 2] = static_cast<std::uint8_t>(bytes[out / 2] * 16 + hex_value(text[i]));
    ++out;
  }
  if (out != 32 || text.size() != 36) return make_error(errc::invalid_event_id, "event id must be a UUID: 8-4-4-4-12 hex digits");
  return event_id(bytes);
}

std::string event_id::to_string() const {
  std::string text;
  text.reserve(36);
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    text.push_back(digits[bytes_[i] >> 4]);
    text.push_back(digits[bytes_[i] & 0x0f]);
  }
  return text;
}

}  // namespace cqrs::core
