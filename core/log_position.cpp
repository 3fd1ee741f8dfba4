#include "core/log_position.hpp"

namespace cqrs::core {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, std::uint64_t value) {
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(hex_digits[(value >> shift) & 0xf]);
}

// Only lowercase: an uppercase digit would compare differently as a string.
bool read_hex(std::string_view text, std::uint64_t& value) {
  value = 0;
  for (char c : text) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (digit < 0) return false;
    value = (value << 4) | static_cast<std::uint64_t>(digit);
  }
  return true;
}

}  // namespace

result<log_position> log_position::parse(std::string_view token) {
  if (token.empty()) return log_position{};
  std::uint64_t xid = 0;
  std::uint64_t seq = 0;
  if (token.size() != token_length || !read_hex(token.substr(0, 16), xid) || !read_hex(token.substr(16), seq)) {
    return make_error(errc::invalid_log_position, "a log position is 32 lowercase hex digits, or empty for the beginning");
  }
  return log_position{xid, seq};
}

std::string log_position::token() const {
  std::string out;
  out.reserve(token_length);
  append_hex(out, xid_);
  append_hex(out, seq_);
  return out;
}

}  // namespace cqrs::core
