#pragma once

// Shared by the token tests (jwt_test.cpp, user_tokens_test.cpp): an HS256 signature made by hand
// (OpenSSL, never the verifier's own code), and the two outcomes of a verification.

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <string_view>
#include <variant>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gateway/jwt.hpp"

namespace cqrs::tests {

// base64url(HMAC-SHA-256(key, input)).
inline std::string hs256(std::string_view key, std::string_view input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac.data(), &length);
  return gateway::detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), length));
}

// The reason of a refusal; fails the test when the token was accepted.
inline std::string refusal_of(const std::variant<gateway::principal, gateway::token_refusal>& result) {
  REQUIRE(std::holds_alternative<gateway::token_refusal>(result));
  return std::get<gateway::token_refusal>(result).reason;
}

// The principal of an accepted token; fails the test with the reason of a refusal.
inline gateway::principal accepted(const std::variant<gateway::principal, gateway::token_refusal>& result) {
  if (const auto* refused = std::get_if<gateway::token_refusal>(&result)) FAIL("refused: " << refused->reason);
  return std::get<gateway::principal>(result);
}

}  // namespace cqrs::tests
