// Harness jwt: the JWT parser and verifier (gateway/jwt.hpp). The input's first byte picks what
// the rest is:
//   even: a token as a client sends it after "Bearer " (the splitting, base64url, header and
//         signature checks an unauthenticated caller reaches);
//   odd:  "header JSON" LF "claims JSON": encoded and signed with the verifier's own secret, as
//         a token holder would, so that the claims behind the signature (exp, nbf, iat, iss, aud,
//         sub, roles) are read too.
// Each token is verified twice at a fixed time: the second answer comes from the verifier's
// memory of verified tokens and must equal the first. base64url_decode is checked on the same
// text: what it accepts encodes back to exactly that text (a token has one spelling).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gateway/jwt.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace cqrs::fuzz {
namespace {

using namespace cqrs::gateway;

constexpr std::string_view secret = "fuzz-secret-0123456789abcdef0123";
// 2026-01-01T00:00:00Z: tokens in the corpus are issued around it.
const auto now = std::chrono::system_clock::time_point{std::chrono::seconds{1767225600}};

auth_config config() {
  auth_config c;
  c.jwt_secret = std::string(secret);
  return c;  // issuer "cqrs-engine", audience "cqrs-api", leeway 30 s
}

// HS256 over header.payload, as a token holder signs (OpenSSL's HMAC, like the verifier).
std::string signed_token(std::string_view header, std::string_view claims) {
  const auto input = gateway::detail::base64url_encode(header) + "." + gateway::detail::base64url_encode(claims);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac.data(), &length);
  return input + "." + gateway::detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), length));
}

std::string outcome(const std::variant<principal, token_refusal>& answer) {
  if (const auto* refused = std::get_if<token_refusal>(&answer)) {
    expect(!refused->reason.empty(), "a token refused without a reason");
    return "refused: " + refused->reason;
  }
  const auto& who = std::get<principal>(answer);
  expect(!who.subject.empty(), "a token accepted without a subject");
  std::string text = "accepted: " + who.subject;
  for (const auto& role : who.roles) text += " " + role;
  return text;
}

void verify(std::string_view token) {
  const jwt_verifier verifier(config());
  const auto first = outcome(verifier.verify(token, now));
  const auto again = outcome(verifier.verify(token, now));
  expect(first == again, "a remembered token answers differently", first + " / " + again);
}

void check_base64url(std::string_view text) {
  const auto bytes = gateway::detail::base64url_decode(text);
  if (bytes) expect(gateway::detail::base64url_encode(*bytes) == text, "base64url has two spellings", text);
}

}  // namespace
}  // namespace cqrs::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  cqrs::fuzz::check_base64url(rest);
  if (data[0] % 2 == 0) {
    cqrs::fuzz::verify(rest);
  } else {
    const auto split = rest.find('\n');
    const auto header = rest.substr(0, split);
    const auto claims = split == std::string_view::npos ? std::string_view{} : rest.substr(split + 1);
    cqrs::fuzz::verify(cqrs::fuzz::signed_token(header, claims));
  }
  return 0;
}
