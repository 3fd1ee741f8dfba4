#include "gateway/jwt.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace cqrs::gateway {

namespace detail {

namespace {

constexpr std::string_view base64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The 6-bit value of a base64url character; -1 for anything else, '=' padding included
// (JWS uses the unpadded form, and accepting two spellings of one token helps nobody).
int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;  // high bits fall off harmlessly: only the low `bits` are pending
  int bits = 0;
  for (const unsigned char byte : bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += base64url_alphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += base64url_alphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // 6 bits cannot finish a byte
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = sextet(c);
    if (value < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // The unused trailing bits must be zero; otherwise several texts decode to the same bytes and
  // a signature altered in its last character would still verify.
  if ((acc & ((1U << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace detail

namespace {

namespace json = boost::json;

// Far more than any token we issue; a bound on what an unauthenticated caller makes us decode.
constexpr std::size_t max_token_bytes = 8 * 1024;
constexpr std::size_t sha256_bytes = 32;
constexpr std::string_view operator_typ = "JWT";
constexpr std::string_view access_typ = "at+jwt";

using check = std::optional<token_refusal>;  // nothing when the check passed

token_refusal refuse(std::string reason) { return token_refusal{std::move(reason)}; }

// Attacker-chosen text goes into a 401's detail: keep it short.
std::string quoted(std::string_view text) {
  constexpr std::size_t shown = 32;
  return text.size() <= shown ? std::string(text) : fmt::format("{}...", text.substr(0, shown));
}

struct token_parts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // "header.payload", exactly as received
};

std::optional<token_parts> split(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return token_parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
                     token.substr(second + 1), token.substr(0, second)};
}

std::optional<json::object> decode_object(std::string_view part) {
  const auto text = detail::base64url_decode(part);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  auto value = json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::optional<std::string_view> string_member(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string_view(value->get_string());
}

// The header's checks; `user` tells whether it is a user's access token (typ at+jwt).
check check_header(const json::object& header, bool& user) {
  const auto* alg = header.if_contains("alg");
  if (alg == nullptr) return refuse("algorithm missing");
  if (!alg->is_string()) return refuse("algorithm is not a string");
  if (alg->get_string() != "HS256") return refuse("algorithm not allowed: " + quoted(alg->get_string()));
  user = false;
  if (const auto* typ = header.if_contains("typ")) {
    if (!typ->is_string()) return refuse("token type not allowed");
    user = typ->get_string() == access_typ;
    if (!user && typ->get_string() != operator_typ) return refuse("token type not allowed");
  }
  // RFC 7515 4.1.11: extensions marked critical must be understood, and we understand none.
  if (header.contains("crit")) return refuse("critical header extensions are not supported");
  return std::nullopt;
}

std::array<unsigned char, sha256_bytes> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  const auto* result = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &length);
  if (result == nullptr || length != sha256_bytes) throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
  std::array<unsigned char, sha256_bytes> out{};
  std::copy_n(mac.begin(), sha256_bytes, out.begin());
  return out;
}

bool signature_matches(std::string_view key, const token_parts& parts) {
  const auto given = detail::base64url_decode(parts.signature);
  if (!given || given->size() != sha256_bytes) return false;
  const auto expected = hmac_sha256(key, parts.signing_input);
  // Constant time, so response timing tells an attacker nothing about how many bytes matched.
  return CRYPTO_memcmp(expected.data(), given->data(), sha256_bytes) == 0;
}

// A NumericDate claim (RFC 7519 2): seconds since the epoch; fractions are allowed and dropped.
enum class date_status { absent, valid, invalid };
struct numeric_date {
  date_status status = date_status::absent;
  std::int64_t seconds = 0;
};

numeric_date read_date(const json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) return {};
  // Beyond about 285 million years there is no sensible date, and no int64 overflow below it
  // (the checks add the leeway to a date), whichever form the number takes.
  constexpr std::int64_t bound = 10'000'000'000'000'000;
  if (value->is_int64() && value->get_int64() >= -bound && value->get_int64() <= bound) {
    return {date_status::valid, value->get_int64()};
  }
  if (value->is_uint64() && value->get_uint64() <= static_cast<std::uint64_t>(bound)) {
    return {date_status::valid, static_cast<std::int64_t>(value->get_uint64())};
  }
  if (value->is_double() && std::isfinite(value->get_double()) &&
      std::fabs(value->get_double()) <= static_cast<double>(bound)) {
    return {date_status::valid, static_cast<std::int64_t>(std::floor(value->get_double()))};
  }
  return {date_status::invalid, 0};
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count();
}

check check_times(const json::object& claims, std::int64_t now, std::int64_t leeway) {
  const auto exp = read_date(claims, "exp");
  if (exp.status == date_status::absent) return refuse("expiry (exp) missing");
  if (exp.status == date_status::invalid) return refuse("expiry (exp) is not a valid date");
  if (now >= exp.seconds + leeway) return refuse("expired");
  const auto nbf = read_date(claims, "nbf");
  if (nbf.status == date_status::invalid) return refuse("not-before (nbf) is not a valid date");
  if (nbf.status == date_status::valid && now + leeway < nbf.seconds) return refuse("not yet valid");
  if (read_date(claims, "iat").status == date_status::invalid) return refuse("issued-at (iat) is not a valid date");
  return std::nullopt;
}

bool audience_matches(const json::value* aud, std::string_view ours) {
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->get_string() == ours;
  if (!aud->is_array()) return false;
  for (const auto& entry : aud->get_array()) {
    if (entry.is_string() && entry.get_string() == ours) return true;
  }
  return false;
}

check check_parties(const json::object& claims, const auth_config& config) {
  const auto issuer = string_member(claims, "iss");
  if (!issuer) return refuse("issuer (iss) missing");
  if (*issuer != config.issuer) return refuse("wrong issuer: " + quoted(*issuer));
  if (!claims.contains("aud")) return refuse("audience (aud) missing");
  if (!audience_matches(claims.if_contains("aud"), config.audience)) return refuse("wrong audience");
  return std::nullopt;
}

// `roles` (an array of strings) wins over `role` (one string); neither means no roles.
std::variant<std::vector<std::string>, token_refusal> read_roles(const json::object& claims) {
  std::vector<std::string> roles;
  if (const auto* many = claims.if_contains("roles")) {
    if (!many->is_array()) return refuse("roles is not an array of strings");
    for (const auto& role : many->get_array()) {
      if (!role.is_string()) return refuse("roles is not an array of strings");
      roles.emplace_back(role.get_string());
    }
    return roles;
  }
  if (const auto* one = claims.if_contains("role")) {
    if (!one->is_string()) return refuse("role is not a string");
    roles.emplace_back(one->get_string());
  }
  return roles;
}

std::variant<principal, token_refusal> read_principal(const json::object& claims) {
  const auto subject = string_member(claims, "sub");
  if (!subject || subject->empty()) return refuse("subject (sub) missing");
  auto roles = read_roles(claims);
  if (auto* refused = std::get_if<token_refusal>(&roles)) return std::move(*refused);
  return principal{std::string(*subject), std::get<std::vector<std::string>>(std::move(roles))};
}

// The key a header names: its kid among the configured keys, or the default key without one.
std::variant<std::string_view, token_refusal> key_for(const json::object& header, const auth_config& config) {
  const auto* kid = header.if_contains("kid");
  if (kid == nullptr) {
    if (config.jwt_secret.empty()) return refuse("no secret configured");
    return std::string_view(config.jwt_secret);
  }
  if (!kid->is_string()) return refuse("key id (kid) is not a string");
  for (const auto& key : config.keys) {
    if (key.id == kid->get_string()) return std::string_view(key.secret);
  }
  return refuse("unknown key id: " + quoted(kid->get_string()));
}

std::variant<token_parts, token_refusal> authenticate(std::string_view token, const auth_config& config,
                                                      bool& user) {
  if (config.jwt_secret.empty() && config.keys.empty()) return refuse("no secret configured");
  if (token.size() > max_token_bytes) return refuse("malformed token: too long");
  const auto parts = split(token);
  if (!parts) return refuse("malformed token: expected header.payload.signature");
  const auto header = decode_object(parts->header);
  if (!header) return refuse("malformed token: header is not base64url-encoded JSON");
  if (auto refused = check_header(*header, user)) return std::move(*refused);
  const auto key = key_for(*header, config);
  if (const auto* refused = std::get_if<token_refusal>(&key)) return *refused;
  if (!signature_matches(std::get<std::string_view>(key), *parts)) return refuse("bad signature");
  return *parts;
}

// A user's access token carries when and which: iat and jti (RFC 9068 2.2).
check check_user_claims(const json::object& claims) {
  if (read_date(claims, "iat").status != date_status::valid) return refuse("issued-at (iat) missing");
  const auto jti = string_member(claims, "jti");
  if (!jti || jti->empty()) return refuse("token id (jti) missing");
  return std::nullopt;
}

// A user's token cut down to the rights the user still has.
std::variant<principal, token_refusal> within_rights(principal who, const rights_source* source) {
  if (source == nullptr) return who;
  const auto rights = source->rights_of(who.subject);
  if (!rights) return who;
  if (!rights->active) return refuse("revoked");
  std::erase_if(who.roles, [&](const std::string& role) {
    return std::find(rights->roles.begin(), rights->roles.end(), role) == rights->roles.end();
  });
  return who;
}

// 16 random bytes from OpenSSL, base64url: unique enough to name one token.
std::string random_token_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace

// Tokens that passed every check, with the times that must still hold at each use.
class jwt_verifier::verified_tokens {
 public:
  // The principal, and whether the token is a user's.
  std::optional<std::pair<principal, bool>> find(std::string_view token, std::int64_t now, std::int64_t leeway) {
    const std::lock_guard lock(mutex_);
    const auto found = entries_.find(token);
    if (found == entries_.end()) return std::nullopt;
    const auto& e = found->second;
    if (now >= e.expires + leeway || (e.not_before && now + leeway < *e.not_before)) return std::nullopt;
    return std::pair{e.who, e.user};
  }

  void remember(std::string_view token, principal who, bool user, std::int64_t expires,
                std::optional<std::int64_t> not_before) {
    const std::lock_guard lock(mutex_);
    // Bounded the simple way: a full cache starts over (each token then costs one verification).
    if (entries_.size() >= capacity) entries_.clear();
    entries_.insert_or_assign(std::string(token), entry{std::move(who), user, expires, not_before});
  }

 private:
  static constexpr std::size_t capacity = 4096;
  struct entry {
    principal who;
    bool user = false;
    std::int64_t expires = 0;
    std::optional<std::int64_t> not_before;
  };
  struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::mutex mutex_;
  std::unordered_map<std::string, entry, text_hash, std::equal_to<>> entries_;
};

jwt_verifier::jwt_verifier(auth_config config, const rights_source* rights)
    : config_(std::move(config)), rights_(rights), verified_(std::make_shared<verified_tokens>()) {}

// Claims are read only once the signature holds: nothing a forger wrote is interpreted.
std::variant<principal, token_refusal> jwt_verifier::verify(std::string_view token,
                                                            std::chrono::system_clock::time_point now) const {
  const auto seconds = unix_seconds(now);
  if (auto known = verified_->find(token, seconds, config_.leeway.count())) {
    if (!known->second) return std::move(known->first);
    return within_rights(std::move(known->first), rights_);
  }
  bool user = false;
  const auto parts = authenticate(token, config_, user);
  if (const auto* refused = std::get_if<token_refusal>(&parts)) return *refused;
  const auto claims = decode_object(std::get<token_parts>(parts).payload);
  if (!claims) return refuse("malformed token: payload is not base64url-encoded JSON");
  if (auto refused = check_times(*claims, seconds, config_.leeway.count())) return std::move(*refused);
  if (auto refused = check_parties(*claims, config_)) return std::move(*refused);
  if (user) {
    if (auto refused = check_user_claims(*claims)) return std::move(*refused);
  }
  auto who = read_principal(*claims);
  const auto* ok = std::get_if<principal>(&who);
  if (ok == nullptr) return who;
  const auto nbf = read_date(*claims, "nbf");
  verified_->remember(token, *ok, user, read_date(*claims, "exp").seconds,
                      nbf.status == date_status::valid ? std::optional(nbf.seconds) : std::nullopt);
  if (!user) return who;
  return within_rights(std::move(*ok), rights_);
}

std::string jwt_verifier::sign(const token_claims& claims, std::chrono::system_clock::time_point now) const {
  // A token signed with an empty key would be refused by every verifier; say so at once.
  if (config_.jwt_secret.empty() && config_.keys.empty()) throw std::invalid_argument("no JWT secret configured");
  const auto issued = unix_seconds(now);
  json::object header{{"alg", "HS256"}, {"typ", claims.user ? access_typ : operator_typ}};
  // The first configured key signs, named by its kid; without keys, the default key, unnamed.
  std::string_view key = config_.jwt_secret;
  if (!config_.keys.empty()) {
    header["kid"] = config_.keys.front().id;
    key = config_.keys.front().secret;
  }
  json::array roles;
  for (const auto& role : claims.roles) roles.emplace_back(role);
  const json::object payload{{"iss", config_.issuer},   {"aud", config_.audience},
                             {"sub", claims.subject},   {"roles", std::move(roles)},
                             {"iat", issued},           {"nbf", issued},
                             {"exp", issued + claims.ttl.count()}, {"jti", random_token_id()}};
  auto input = fmt::format("{}.{}", detail::base64url_encode(json::serialize(header)),
                           detail::base64url_encode(json::serialize(payload)));
  const auto mac = hmac_sha256(key, input);
  const std::string_view mac_bytes(reinterpret_cast<const char*>(mac.data()), mac.size());
  return fmt::format("{}.{}", input, detail::base64url_encode(mac_bytes));
}

}  // namespace cqrs::gateway
