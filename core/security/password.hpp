#pragma once

// Passwords: NIST SP 800-63B's rules for choosing one, and argon2id hashing through libsodium.
//
// Rules: 12 to 128 Unicode code points, any characters (no composition rules), not equal to the
// account's email (compared in the email's normal form). Before hashing and verifying, a password
// is NFKC-normalised (800-63B 5.1.1.2), so the same password typed on two keyboards matches.
//
// Hashes are libsodium's crypto_pwhash_str texts ("$argon2id$v=19$m=19456,t=2,p=1$..."): they
// carry their parameters, so hashes made under older parameters still verify, and verify()
// reports when a hash should be replaced by one made under the current parameters.
//
// Hashing costs tens of milliseconds of one core by design: run it on a password_pool
// (password_pool.hpp), never on an I/O thread or a database pool's thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/security/errc.hpp"

namespace cqrs::core::security {

inline constexpr std::size_t password_min_code_points = 12;
inline constexpr std::size_t password_max_code_points = 128;

// A refusal (password_*) or nothing when the password may be chosen. `normalised_email` is the
// account's address in normal form (normalise_email), or empty when there is none.
std::optional<refusal> check_new_password(std::string_view password, std::string_view normalised_email);

// argon2id's cost. OWASP's minimum for argon2id is m = 19 MiB, t = 2, p = 1 (libsodium always
// uses p = 1).
struct argon2_params {
  std::uint64_t ops_limit = 2;                  // t: passes over memory
  std::size_t mem_limit = 19ULL * 1024 * 1024;  // m: bytes
};

struct verify_result {
  bool match = false;
  // The hash was made under other parameters than the hasher's: store hash(password) now that the
  // password is known to be right.
  bool needs_rehash = false;
};

class password_hasher {
 public:
  // Makes the dummy hash for verify_unknown(), so construction costs one hash.
  explicit password_hasher(argon2_params params = {});

  const argon2_params& params() const { return params_; }

  // Throws crypto_error when the password is not valid UTF-8 (check_new_password refuses that
  // first) or memory runs out.
  std::string hash(std::string_view password) const;

  // A malformed stored hash never matches.
  verify_result verify(std::string_view stored_hash, std::string_view password) const;

  // The same work as verify() against a real hash, for a login naming an unknown account: the
  // answer's timing does not tell which accounts exist. Never matches.
  verify_result verify_unknown(std::string_view password) const;

 private:
  argon2_params params_;
  std::string dummy_hash_;
};

}  // namespace cqrs::core::security
