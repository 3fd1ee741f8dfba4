#include "core/security/password.hpp"

#include <sodium.h>

#include <array>

#include <fmt/format.h>

#include "core/security/email.hpp"
#include "core/security/secret.hpp"

namespace cqrs::core::security {

std::optional<refusal> check_new_password(std::string_view password, std::string_view normalised_email) {
  // Bounded before ICU sees it: 128 code points are at most 512 bytes of UTF-8.
  if (password.size() > 4 * password_max_code_points) {
    return refusal{errc::password_too_long, fmt::format("a password has at most {} characters", password_max_code_points)};
  }
  const auto count = code_points(password);
  if (!count) return refusal{errc::password_invalid_utf8, "the password is not valid UTF-8"};
  if (*count < password_min_code_points) {
    return refusal{errc::password_too_short, fmt::format("a password has at least {} characters", password_min_code_points)};
  }
  if (*count > password_max_code_points) {
    return refusal{errc::password_too_long, fmt::format("a password has at most {} characters", password_max_code_points)};
  }
  if (!normalised_email.empty() && nfkc_casefold(password) == normalised_email) {
    return refusal{errc::password_equals_email, "the password must not be the email address"};
  }
  return std::nullopt;
}

namespace {

// NFKC of the password, wiped when done with. Invalid UTF-8 is hashed as it is: verify() must
// answer "no match" for any input, and hash() refuses it separately.
class normalised_password {
 public:
  explicit normalised_password(std::string_view password) : text_(nfkc(password).value_or(std::string(password))) {}
  ~normalised_password() { sodium_memzero(text_.data(), text_.size()); }
  normalised_password(const normalised_password&) = delete;
  normalised_password& operator=(const normalised_password&) = delete;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

std::string hash_normalised(const std::string& password, const argon2_params& params) {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), params.ops_limit, params.mem_limit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw crypto_error("argon2id hashing failed (out of memory?)");
  }
  return std::string(out.data());
}

}  // namespace

password_hasher::password_hasher(argon2_params params) : params_(params) {
  ensure_sodium();
  dummy_hash_ = hash_normalised(random_bytes(16), params_);
}

std::string password_hasher::hash(std::string_view password) const {
  if (!code_points(password)) throw crypto_error("a password to hash must be valid UTF-8");
  const normalised_password normal(password);
  return hash_normalised(normal.text(), params_);
}

verify_result password_hasher::verify(std::string_view stored_hash, std::string_view password) const {
  // crypto_pwhash_str_verify reads a NUL-terminated hash: the copy guarantees it ends where it should.
  const std::string stored(stored_hash.substr(0, stored_hash.find('\0')));
  if (stored.empty() || stored.size() >= crypto_pwhash_STRBYTES) return {};
  const normalised_password normal(password);
  verify_result result;
  result.match = crypto_pwhash_str_verify(stored.c_str(), normal.text().data(), normal.text().size()) == 0;
  result.needs_rehash =
      result.match && crypto_pwhash_str_needs_rehash(stored.c_str(), params_.ops_limit, params_.mem_limit) != 0;
  return result;
}

verify_result password_hasher::verify_unknown(std::string_view password) const {
  (void)verify(dummy_hash_, password);
  return {};
}

}  // namespace cqrs::core::security
