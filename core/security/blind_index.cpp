#include "core/security/blind_index.hpp"

#include <sodium.h>

#include <array>

#include "core/security/email.hpp"

namespace cqrs::core::security {

std::string blind_index::of_normalised(std::string_view normalised, std::string_view purpose) const {
  ensure_sodium();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key_.data(), key256::size);
  // The purpose, its end, then the value: "email" + "a@b.c" cannot collide with "emaila" + "@b.c".
  const std::string prefix = std::string(purpose) + '\0';
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(normalised.data()), normalised.size());
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_final(&state, mac.data());
  return hex_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

result<std::string> blind_index::of_email(std::string_view address) const {
  auto normal = normalise_email(address);
  if (!normal) return normal.error();
  return of_normalised(normal.value());
}

}  // namespace cqrs::core::security
