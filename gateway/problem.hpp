#pragma once

// Error answers as RFC 9457 problem details (application/problem+json):
// {"type", "title", "status", "detail", "instance"?, "errors"?: [{"field", "message"}], ...}
// plus the stable `code` of the error (the enum's name) so that clients can switch on it.

#include <string>
#include <string_view>
#include <vector>

#include "gateway/error_mapping.hpp"
#include "gateway/http_types.hpp"

namespace cqrs::gateway {

struct field_error {
  std::string field;    // "price.amount"; dotted for nested members
  std::string message;  // for humans
};

struct problem {
  error_mapping mapping;
  std::string code;    // "validation_failed", "product.insufficient_stock"
  std::string detail;  // this occurrence, for humans
  std::vector<field_error> errors;
  std::vector<std::pair<std::string, std::string>> extra_headers;  // Retry-After, WWW-Authenticate
};

problem make_problem(errc code, std::string detail, std::vector<field_error> errors = {});

http_response to_response(const problem& p);
// Shorthands.
http_response problem_response(errc code, std::string detail, std::vector<field_error> errors = {});
// 503/429 with Retry-After in whole seconds (at least 1).
http_response retry_later(errc code, std::string detail, int retry_after_seconds);

}  // namespace cqrs::gateway
