#pragma once

// CORS for the configured origins. A preflight (OPTIONS with Access-Control-Request-Method) from
// an allowed origin is answered 204 with the allowed methods and headers; any other response to
// an allowed origin carries Access-Control-Allow-Origin (that origin; Vary: Origin) and exposes
// ETag, Location, X-Position, Consistency-Token, X-Request-Id, Retry-After and Idempotent-Replayed. Requests from other origins get no
// CORS headers (the browser then refuses them; the server itself does not).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http_types.hpp"

namespace cqrs::gateway {

class cors_policy {
 public:
  explicit cors_policy(std::vector<std::string> allowed_origins);

  bool is_preflight(const http_request& request) const;
  // The 204 for an allowed preflight; nothing when the origin is not allowed.
  std::optional<http_response> preflight(const http_request& request) const;
  // Adds the headers for an actual (non-preflight) request's response.
  void decorate(const http_request& request, http_response& response) const;

 private:
  bool allowed(std::string_view origin) const;
  std::string allow_origin_value(std::string_view origin) const;
  std::vector<std::string> origins_;
};

}  // namespace cqrs::gateway
