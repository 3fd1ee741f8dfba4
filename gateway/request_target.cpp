#include "gateway/request_target.hpp"

#include <boost/locale/utf.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace cqrs::gateway {

std::optional<request_target> parse_request_target(std::string_view target) {
  const auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return std::nullopt;
  const auto& url = *parsed;
  request_target out;
  // Most paths hold no escape: their encoded form is their decoded form, read without decoding
  // (a third of the parse's cost on the hot GET).
  const auto encoded = url.encoded_path();
  out.segments.reserve(4);
  if (encoded.find('%') == std::string_view::npos) {
    out.path = std::string(encoded);
    for (const auto segment : url.encoded_segments()) out.segments.emplace_back(segment);
  } else {
    out.path = url.path();
    for (const auto segment : url.segments()) out.segments.emplace_back(segment);
  }
  // "/" has no segments for Boost.URL; routes see it as one empty segment, as "/x/" ends in one.
  if (out.segments.empty()) out.segments.emplace_back();
  boost::urls::encoding_opts form;
  form.space_as_plus = true;
  for (const auto param : url.params(form)) {
    // An empty item ("a=1&&b=2") is no parameter.
    if (param.key.empty() && !param.has_value) continue;
    out.query.emplace_back(param.key, param.value);
  }
  return out;
}

bool is_valid_utf8(std::string_view text) {
  // Boost.Locale's decoder (header-only) refuses overlong forms, surrogates and code points past
  // U+10FFFF, as well as truncated sequences.
  using traits = boost::locale::utf::utf_traits<char>;
  auto it = text.begin();
  while (it != text.end()) {
    const auto code = traits::decode(it, text.end());
    if (code == boost::locale::utf::illegal || code == boost::locale::utf::incomplete) return false;
  }
  return true;
}

}  // namespace cqrs::gateway
