#pragma once

// The request target (origin form, RFC 9112 §3.2.1) read with Boost.URL, so every route sees the
// same, standard decoding: the path percent-decoded as a whole and segment by segment (an encoded
// '/' stays inside its segment), the query as parameters in order with '+' meaning a space (as
// HTML forms send it; "%2B" is a plus). A target that is not valid RFC 3986 origin form (a
// stray '%', a space, a control character) is refused.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cqrs::gateway {

struct request_target {
  std::string path;                   // "/v1/products/a%2Fb" -> "/v1/products/a/b"
  std::vector<std::string> segments;  // {"v1", "products", "a/b"}
  std::vector<std::pair<std::string, std::string>> query;  // "a=1&b=x+y&flag" -> {a,1} {b,"x y"} {flag,""}
};

// Nothing when the target is not a valid origin-form target.
std::optional<request_target> parse_request_target(std::string_view target);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace cqrs::gateway
