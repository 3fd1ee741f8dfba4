#pragma once

// The security library's expected refusals, as values (core/errors.hpp's split): a refused email,
// password or refresh token, a field that does not open, a subject that was forgotten. Broken
// infrastructure (the key store unreachable, OpenSSL failing) stays an exception.

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cqrs::core::security {

enum class errc {
  // email addresses (email.hpp)
  email_empty = 1,
  email_invalid_utf8,
  email_control_character,   // whitespace or a control character anywhere in the address
  email_missing_at,
  email_multiple_at,
  email_empty_local_part,
  email_local_part_too_long,  // over 64 bytes (RFC 5321 4.5.3.1.1)
  email_empty_domain,
  email_domain_too_long,      // over 253 bytes
  email_invalid_domain,       // an empty label, a label over 63 bytes, or no dot
  email_too_long,             // over 254 bytes in all (RFC 5321's path limit less the brackets)
  // passwords (password.hpp)
  password_too_short,         // under 12 code points
  password_too_long,          // over 128 code points
  password_invalid_utf8,
  password_equals_email,
  // sealed fields (pii_cipher.hpp, pii_vault.hpp)
  sealed_malformed,           // not `pii1.<key id>.<base64url>`
  sealed_wrong_key,           // sealed under another data key than the subject's
  sealed_not_authentic,       // tag check failed: another stream or field, or altered text
  subject_forgotten,          // the subject's data key was destroyed: nothing can be sealed for it
  // refresh tokens (refresh_token.hpp)
  refresh_token_malformed,
};

// A stable name for logs and protocol mappings ("email_missing_at").
std::string_view to_string(errc code);

struct refusal {
  errc code;
  std::string detail;  // for a person; never holds the refused secret or address
};

// Holds a value or a refusal. Reading the wrong side is a programming error (std::logic_error).
template <typename T>
class [[nodiscard]] result {
 public:
  result(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design
  result(refusal failure) : state_(std::move(failure)) {}  // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return (expect(true), std::get<0>(state_)); }
  T& value() & { return (expect(true), std::get<0>(state_)); }
  T&& value() && { return (expect(true), std::get<0>(std::move(state_))); }
  const refusal& error() const { return (expect(false), std::get<1>(state_)); }
  errc code() const { return error().code; }

 private:
  void expect(bool want_value) const {
    if (ok() != want_value) throw std::logic_error(want_value ? "result holds a refusal" : "result holds a value");
  }

  std::variant<T, refusal> state_;
};

// Broken cryptographic machinery (OpenSSL or libsodium failing, memory exhausted): never an
// expected outcome, never caused by a caller's input.
class crypto_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cqrs::core::security
