#include "core/security/email.hpp"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include <vector>

#include <fmt/format.h>

namespace cqrs::core::security {

namespace {

// UTF-8 to UTF-16 (ICU's working form); nothing when invalid.
std::optional<std::vector<UChar>> to_utf16(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t length = 0;
  u_strFromUTF8(nullptr, 0, &length, text.data(), static_cast<int32_t>(text.size()), &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) return std::nullopt;
  std::vector<UChar> out(static_cast<std::size_t>(length) + 1);
  status = U_ZERO_ERROR;
  u_strFromUTF8(out.data(), static_cast<int32_t>(out.size()), &length, text.data(), static_cast<int32_t>(text.size()),
                &status);
  if (U_FAILURE(status)) return std::nullopt;
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::string to_utf8(const std::vector<UChar>& text) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t length = 0;
  u_strToUTF8(nullptr, 0, &length, text.data(), static_cast<int32_t>(text.size()), &status);
  std::string out(static_cast<std::size_t>(length) + 1, '\0');
  status = U_ZERO_ERROR;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &length, text.data(), static_cast<int32_t>(text.size()),
              &status);
  if (U_FAILURE(status)) throw crypto_error("ICU could not convert normalised text to UTF-8");
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::optional<std::string> normalise_with(const UNormalizer2* normalizer, UErrorCode instance_status,
                                          std::string_view text) {
  if (U_FAILURE(instance_status)) throw crypto_error("ICU's normalisation data is missing");
  const auto source = to_utf16(text);
  if (!source) return std::nullopt;
  UErrorCode status = U_ZERO_ERROR;
  const auto length = unorm2_normalize(normalizer, source->data(), static_cast<int32_t>(source->size()), nullptr, 0,
                                       &status);
  std::vector<UChar> out(static_cast<std::size_t>(length) + 1);
  status = U_ZERO_ERROR;
  const auto written = unorm2_normalize(normalizer, source->data(), static_cast<int32_t>(source->size()), out.data(),
                                        static_cast<int32_t>(out.size()), &status);
  if (U_FAILURE(status)) throw crypto_error("ICU normalisation failed");
  out.resize(static_cast<std::size_t>(written));
  return to_utf8(out);
}

std::string_view trim_ascii(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// Whitespace (any Unicode White_Space) and control characters have no place in an address.
bool has_space_or_control(std::string_view text) {
  int32_t at = 0;
  const auto length = static_cast<int32_t>(text.size());
  while (at < length) {
    UChar32 c = 0;
    U8_NEXT(reinterpret_cast<const uint8_t*>(text.data()), at, length, c);
    if (c < 0 || u_isUWhiteSpace(c) || u_iscntrl(c) || u_charType(c) == U_FORMAT_CHAR) return true;
  }
  return false;
}

refusal refuse(errc code, std::string detail) { return refusal{code, std::move(detail)}; }

std::optional<refusal> check_domain(std::string_view domain) {
  if (domain.empty()) return refuse(errc::email_empty_domain, "the part after '@' is empty");
  if (domain.size() > 253) return refuse(errc::email_domain_too_long, "the domain is longer than 253 bytes");
  if (domain.find('.') == std::string_view::npos) {
    return refuse(errc::email_invalid_domain, "the domain has no dot (example.com)");
  }
  std::size_t start = 0;
  while (true) {
    const auto dot = domain.find('.', start);
    const auto label = domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) {
      return refuse(errc::email_invalid_domain, "a part of the domain between dots is empty or over 63 bytes");
    }
    if (dot == std::string_view::npos) return std::nullopt;
    start = dot + 1;
  }
}

std::optional<refusal> check_plausible(std::string_view address) {
  if (has_space_or_control(address)) {
    return refuse(errc::email_control_character, "an address holds no whitespace or control character");
  }
  const auto at = address.find('@');
  if (at == std::string_view::npos) return refuse(errc::email_missing_at, "an address has one '@'");
  if (address.find('@', at + 1) != std::string_view::npos) {
    return refuse(errc::email_multiple_at, "an address has exactly one '@'");
  }
  if (at == 0) return refuse(errc::email_empty_local_part, "the part before '@' is empty");
  if (at > 64) return refuse(errc::email_local_part_too_long, "the part before '@' is longer than 64 bytes");
  if (auto domain_problem = check_domain(address.substr(at + 1))) return domain_problem;
  if (address.size() > email_max_bytes) {
    return refuse(errc::email_too_long, fmt::format("an address is at most {} bytes", email_max_bytes));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> nfkc_casefold(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const auto* normalizer = unorm2_getNFKCCasefoldInstance(&status);
  return normalise_with(normalizer, status, text);
}

std::optional<std::string> nfkc(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const auto* normalizer = unorm2_getNFKCInstance(&status);
  return normalise_with(normalizer, status, text);
}

std::optional<std::size_t> code_points(std::string_view text) {
  const auto utf16 = to_utf16(text);
  if (!utf16) return std::nullopt;
  return static_cast<std::size_t>(u_countChar32(utf16->data(), static_cast<int32_t>(utf16->size())));
}

result<std::string> normalise_email(std::string_view address) {
  address = trim_ascii(address);
  if (address.empty()) return refuse(errc::email_empty, "the address is empty");
  // Bounded before ICU sees it: a megabyte of text is refused without normalising it.
  if (address.size() > 4 * email_max_bytes) {
    return refuse(errc::email_too_long, fmt::format("an address is at most {} bytes", email_max_bytes));
  }
  auto normal = nfkc_casefold(address);
  if (!normal) return refuse(errc::email_invalid_utf8, "the address is not valid UTF-8");
  if (auto problem = check_plausible(*normal)) return std::move(*problem);
  return std::move(*normal);
}

}  // namespace cqrs::core::security
