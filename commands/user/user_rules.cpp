#include "commands/user/user_rules.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace cqrs::commands::user::rules {

namespace {

// A sealed field's shape: `required` ones must be present; any present one bounded and visible.
std::optional<rejection> check_sealed(const schemas::sealed_text& value, bool required, errc code,
                                      std::string_view what) {
  const auto& text = value.value();
  if (text.empty()) {
    if (!required) return std::nullopt;
    return rejection{code, fmt::format("the sealed {} is required", what)};
  }
  if (text.size() > limits::max_sealed_length) {
    return rejection{code, fmt::format("the sealed {} is longer than {} characters", what, limits::max_sealed_length)};
  }
  if (!is_visible_ascii(text)) return rejection{code, fmt::format("the sealed {} is not visible ASCII", what)};
  return std::nullopt;
}

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// The length of the UTF-8 sequence a lead byte starts, 0 for a byte that cannot lead one.
int sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// Overlong forms, surrogates and code points above U+10FFFF are refused by the second byte's range.
bool second_byte_fits(unsigned char lead, unsigned char second) {
  if (lead == 0xe0) return second >= 0xa0 && second <= 0xbf;
  if (lead == 0xed) return second >= 0x80 && second <= 0x9f;
  if (lead == 0xf0) return second >= 0x90 && second <= 0xbf;
  if (lead == 0xf4) return second >= 0x80 && second <= 0x8f;
  return second >= 0x80 && second <= 0xbf;
}

}  // namespace

// Hand-written because it is twenty lines: no Debian-packaged validator is already a dependency
// of this library.
bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const int length = sequence_length(lead);
    if (length == 0 || i + length > text.size()) return false;
    if (length > 1 && !second_byte_fits(lead, static_cast<unsigned char>(text[i + 1]))) return false;
    for (int k = 2; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < 0x80 || next > 0xbf) return false;
    }
    i += length;
  }
  return true;
}

bool is_visible_ascii(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::optional<rejection> check_email(const schemas::sealed_text& email) {
  return check_sealed(email, true, errc::invalid_email, "e-mail address");
}

std::optional<rejection> check_email_index(const schemas::blind_index& index) {
  const auto& text = index.value();
  if (text.size() < limits::min_email_index_length || text.size() > limits::max_email_index_length ||
      text.size() % 2 != 0 || !std::ranges::all_of(text, is_lower_hex)) {
    return rejection{errc::invalid_email_index,
                     fmt::format("the e-mail index must be lowercase hex of {} to {} digits",
                                 limits::min_email_index_length, limits::max_email_index_length)};
  }
  return std::nullopt;
}

std::optional<rejection> check_password_hash(const schemas::password_hash& hash) {
  const auto& text = hash.value();
  if (text.empty() || text.size() > limits::max_password_hash_length || !is_visible_ascii(text)) {
    return rejection{errc::invalid_password_hash,
                     fmt::format("the password hash must be 1 to {} visible ASCII characters",
                                 limits::max_password_hash_length)};
  }
  return std::nullopt;
}

std::optional<rejection> check_name(const schemas::sealed_text& name) {
  return check_sealed(name, true, errc::invalid_name, "name");
}

std::optional<rejection> check_phone(const schemas::sealed_text& phone) {
  return check_sealed(phone, false, errc::invalid_phone, "phone number");
}

std::optional<rejection> check_postal_address(const schemas::sealed_text& address) {
  return check_sealed(address, false, errc::invalid_postal_address, "postal address");
}

std::optional<rejection> check_role(const schemas::user_role& role) {
  const auto& r = role.value();
  if (r == schemas::user_roles::customer || r == schemas::user_roles::support || r == schemas::user_roles::admin) {
    return std::nullopt;
  }
  return rejection{errc::unknown_role, "the role must be customer, support or admin"};
}

std::optional<rejection> check_reason(std::string_view reason) {
  if (reason.size() > limits::max_reason_length) {
    return rejection{errc::invalid_reason, fmt::format("the reason is longer than {} bytes", limits::max_reason_length)};
  }
  if (!is_valid_utf8(reason)) return rejection{errc::invalid_reason, "the reason is not valid UTF-8"};
  if (std::ranges::any_of(reason, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return rejection{errc::invalid_reason, "the reason holds control characters"};
  }
  return std::nullopt;
}

}  // namespace cqrs::commands::user::rules
