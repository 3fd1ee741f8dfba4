#pragma once

// JSON Web Tokens, HS256 only (RFC 7519 / 7515, RFC 8725's practices): verify() checks the
// header's `alg` is exactly "HS256" (so "none" and every other algorithm are refused), its `typ`
// ("JWT" for operators' tokens, "at+jwt" for users' access tokens), its `kid` (one of the
// configured keys; none: the default key), the signature (constant-time
// comparison), `exp` (required), `nbf` (when present), `iss` and `aud` (a string, or an array
// that contains ours), with a leeway for clock skew. Roles come from the `roles` claim (an array
// of strings) or `role` (one string). sign() makes tokens for `cqrs token` and tests.
// HMAC-SHA256 is OpenSSL's; base64url is written here (a dozen lines; Boost has no public one).
//
// Verified tokens are remembered (up to 4,096, by the whole token, signature included), because a
// client sends the same token with every request and verifying it (HMAC, base64url, the claims'
// JSON) was about 5 % of the gateway's CPU per command. A remembered token is only ever the exact
// bytes that passed every check; its times (`exp`, `nbf`) are checked again at every use, and a
// token past them is verified afresh, so it is refused with the same reason as before.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/gateway_config.hpp"
#include "gateway/access.hpp"

namespace cqrs::gateway {

// Why a token was refused; the text goes into the 401's detail.
struct token_refusal {
  std::string reason;  // "expired", "bad signature", "algorithm not allowed: none", ...
};

struct token_claims {
  std::string subject;
  std::vector<std::string> roles;
  std::chrono::seconds ttl{3600};
  // A user's access token (login, refresh): typed "at+jwt" (RFC 9068), with iat and jti required,
  // and cut down at every use to the rights the user still has (rights_source). Operator
  // tokens (`cqrs token`, typ "JWT") have no user behind them and are not.
  bool user = false;
};

// What a user may still do, as this process last heard.
struct subject_rights {
  bool active = true;  // false: deactivated or forgotten, every token of theirs is refused
  std::vector<std::string> roles;
};

class rights_source {
 public:
  virtual ~rights_source() = default;
  // Nothing: no change was ever recorded for the subject, its tokens' claims stand.
  virtual std::optional<subject_rights> rights_of(std::string_view subject) const = 0;
};

class jwt_verifier {
 public:
  // Keys: config.keys by kid, and config.jwt_secret for tokens without a kid. `rights` (may be
  // null) outlives the verifier.
  explicit jwt_verifier(auth_config config, const rights_source* rights = nullptr);

  std::variant<principal, token_refusal> verify(std::string_view token,
                                                std::chrono::system_clock::time_point now =
                                                    std::chrono::system_clock::now()) const;
  // A token for `claims`, issued now by this configuration's issuer for its audience.
  std::string sign(const token_claims& claims,
                   std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

 private:
  class verified_tokens;

  auth_config config_;
  const rights_source* rights_ = nullptr;
  std::shared_ptr<verified_tokens> verified_;  // shared by copies: same configuration
};

namespace detail {
std::string base64url_encode(std::string_view bytes);
// Nothing when the text is not unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);
}  // namespace detail

}  // namespace cqrs::gateway
