#pragma once

// Email addresses: the one normal form used for uniqueness, login and lookup, and the check that
// an address is plausible (not that it exists: only a confirmation message can tell that).
//
// Normal form: surrounding ASCII whitespace removed, then Unicode NFKC_Casefold (ICU), which is
// NFKC normalisation with full case folding: "Alice@EXAMPLE.com", "ａｌｉｃｅ@example.com" (full
// width) and "ali<zero-width space>ce@example.com" normalise alike (NFKC_Casefold also removes
// invisible default-ignorable characters), as do other texts Unicode says are the same. The
// local part is folded too: in practice no mail provider gives two people addresses that differ
// only by case, and two accounts for them would be a trap.
//
// Plausible: valid UTF-8, no whitespace or control character, exactly one '@', a local part of 1
// to 64 bytes, a domain of 1 to 253 bytes made of dot-separated labels of 1 to 63 bytes with at
// least one dot, 254 bytes in all (RFC 5321's limits, measured on the normal form).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/security/errc.hpp"

namespace cqrs::core::security {

inline constexpr std::size_t email_max_bytes = 254;

// The normal form of a plausible address, or a refusal naming what is wrong (email_*).
result<std::string> normalise_email(std::string_view address);

// NFKC_Casefold of any UTF-8 text (nothing else checked), or nothing when it is not valid UTF-8.
std::optional<std::string> nfkc_casefold(std::string_view text);

// NFKC of any UTF-8 text (NIST 800-63B's normalisation of passwords), or nothing when invalid.
std::optional<std::string> nfkc(std::string_view text);

// The number of Unicode code points in valid UTF-8 text, or nothing when it is not valid UTF-8.
std::optional<std::size_t> code_points(std::string_view text);

}  // namespace cqrs::core::security
