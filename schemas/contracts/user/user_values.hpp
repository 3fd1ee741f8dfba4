#pragma once

// The User domain's value types. The engine never sees a user's personal data in clear: every
// personal field arrives sealed (ciphertext made by the caller with the user's data key), the
// e-mail address also as a blind index (a keyed hash, so equal addresses can be found without
// decrypting), and the password as a finished hash. To the contracts all three are opaque
// strings; destroying the user's data key makes the sealed fields unreadable for good.

#include <string>
#include <string_view>

#include "schemas/contracts/value_types.hpp"

namespace cqrs::schemas {

// Ciphertext of one personal field, as text (the caller's encoding); empty for an optional field
// the user left out.
using sealed_text = strong_value<std::string, struct sealed_text_tag>;
// The e-mail address's blind index: lowercase hex of an HMAC, equal for equal addresses.
using blind_index = strong_value<std::string, struct blind_index_tag>;
// A password hash in its self-describing text form (e.g. "$argon2id$v=19$...").
using password_hash = strong_value<std::string, struct password_hash_tag>;
// "customer", "support" or "admin" (the aggregate refuses any other).
using user_role = strong_value<std::string, struct user_role_tag>;

namespace user_roles {
inline constexpr std::string_view customer = "customer";
inline constexpr std::string_view support = "support";
inline constexpr std::string_view admin = "admin";
}  // namespace user_roles

}  // namespace cqrs::schemas
