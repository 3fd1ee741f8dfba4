#pragma once

// Every error code the gateway can answer with, mapped to its HTTP status and its problem `type`
// in this one place. Each mapping is a switch without `default:`, so a code added to any of these
// enums fails the build (-Werror=switch) until it is mapped here; tests/unit/error_mapping_test.cpp
// checks every value.

#include <string>
#include <string_view>

#include "commands/command_outcome.hpp"
#include "commands/product/product_errc.hpp"

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

error_mapping map_error(errc code);
error_mapping map_error(commands::product::errc code);
// `caller_expectation` matters for version_conflict only: 412 when the caller's If-Match no
// longer holds, 409 when concurrent writers kept winning until the retries ran out.
error_mapping map_error(commands::errc code, bool caller_expectation = false);

// The request field a Product rejection is about ("price.currency"), when it is about one.
std::string_view field_of(commands::product::errc code);

}  // namespace cqrs::gateway
