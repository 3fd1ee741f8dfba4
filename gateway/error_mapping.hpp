#pragma once

// The gateway's and the command pipeline's error codes, mapped to their HTTP status and problem
// `type` here; each domain maps its aggregate's codes in its own folder (gateway/<domain>/), with
// make_error_mapping(). Each mapping is a switch without `default:`, so a code added to any of these
// enums fails the build (-Werror=switch) until it is mapped here; tests/unit/error_mapping_test.cpp
// checks every value.

#include <string>
#include <string_view>

#include "commands/command_outcome.hpp"

namespace cqrs::gateway {

// The gateway's own refusals. Stable names (they are the problem `type`'s last segment).
enum class errc {
  malformed_request = 1,   // unparsable JSON, a body that is not an object, bad query syntax
  validation_failed = 2,   // well-formed, but fields are missing, of the wrong type or out of range
  unauthorized = 3,        // no valid bearer token
  forbidden = 4,           // a valid token without the role
  route_not_found = 5,     // no route has this path
  method_not_allowed = 6,  // the path exists, the method does not
  resource_not_found = 7,  // the product (or stream) is unknown to the read side
  payload_too_large = 8,
  headers_too_large = 9,
  unsupported_media_type = 10,
  rate_limited = 11,
  overloaded = 12,           // a dependency's pool is saturated
  not_yet_consistent = 13,   // min_position not reached within the wait
  dependency_unavailable = 14,
  request_timeout = 15,
  internal_error = 16,
};

std::string_view to_string(errc code);

struct error_mapping {
  int status;
  std::string type;   // a stable URI: "https://cqrs.dev/problems/<code>"
  std::string title;  // short, human, never varies by occurrence
};

// A mapping whose type is the problem URI of `code` (each domain's mapping makes its own with it).
error_mapping make_error_mapping(int status, std::string_view code, std::string title);

error_mapping map_error(errc code);
// `caller_expectation` matters for version_conflict only: 412 when the caller's If-Match no
// longer holds, 409 when concurrent writers kept winning until the retries ran out.
error_mapping map_error(commands::errc code, bool caller_expectation = false);

}  // namespace cqrs::gateway
