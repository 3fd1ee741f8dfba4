#pragma once

// A domain's rule rejection as stored with a command's outcome: {"code": <errc number>,
// "detail": "..."}. Every domain whose rejection is `{errc code; std::string detail;}` (with a
// `to_string(errc)` found by argument-dependent lookup that throws std::invalid_argument for a
// number it does not know) encodes and decodes it through these two, so a stored refusal reads
// the same in every domain.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace cqrs::commands {

template <typename Rejection>
std::string encode_rejection_json(const Rejection& why) {
  return boost::json::serialize(
      boost::json::object{{"code", static_cast<std::int64_t>(why.code)}, {"detail", why.detail}});
}

// Nothing when the text is not such an object, or names a code this build does not know.
template <typename Rejection>
std::optional<Rejection> decode_rejection_json(std::string_view text) {
  using errc = decltype(Rejection::code);
  boost::system::error_code failed;
  const auto parsed = boost::json::parse(text, failed);
  if (failed || !parsed.is_object()) return std::nullopt;
  const auto* code = parsed.as_object().if_contains("code");
  const auto* detail = parsed.as_object().if_contains("detail");
  if (code == nullptr || !code->is_int64() || detail == nullptr || !detail->is_string()) return std::nullopt;
  const auto value = static_cast<errc>(code->as_int64());
  try {
    (void)to_string(value);  // a number this build does not know is no rejection of ours
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  return Rejection{value, std::string(detail->as_string())};
}

}  // namespace cqrs::commands
