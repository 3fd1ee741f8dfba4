#pragma once

// The checks of single values the User commands carry. Each returns the rejection, or nothing when
// the value is acceptable. The personal fields are ciphertext the aggregate cannot read, so only
// their shape is checked: present when required, bounded, visible ASCII (every text encoding of
// ciphertext, base64 or hex with a version prefix, is). Pure; exposed for tests and callers that
// pre-validate input.

#include <cstddef>
#include <optional>
#include <string_view>

#include "commands/user/user_errc.hpp"
#include "schemas/contracts/user/user_values.hpp"

namespace cqrs::commands::user::limits {

inline constexpr std::size_t max_sealed_length = 4096;   // a sealed field, as text
inline constexpr std::size_t min_email_index_length = 32;
inline constexpr std::size_t max_email_index_length = 128;  // HMAC-SHA-512 in hex
inline constexpr std::size_t max_password_hash_length = 512;
inline constexpr std::size_t max_reason_length = 500;       // bytes of UTF-8

}  // namespace cqrs::commands::user::limits

namespace cqrs::commands::user::rules {

std::optional<rejection> check_email(const schemas::sealed_text& email);
std::optional<rejection> check_email_index(const schemas::blind_index& index);
std::optional<rejection> check_password_hash(const schemas::password_hash& hash);
std::optional<rejection> check_name(const schemas::sealed_text& name);
std::optional<rejection> check_phone(const schemas::sealed_text& phone);            // empty: none
std::optional<rejection> check_postal_address(const schemas::sealed_text& address);  // empty: none
std::optional<rejection> check_role(const schemas::user_role& role);
std::optional<rejection> check_reason(std::string_view reason);

bool is_visible_ascii(std::string_view text);
bool is_valid_utf8(std::string_view text);

}  // namespace cqrs::commands::user::rules
