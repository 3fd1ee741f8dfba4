#include "gateway/cors_policy.hpp"

#include <algorithm>
#include <utility>

namespace cqrs::gateway {

namespace {

constexpr std::string_view any_origin = "*";
constexpr std::string_view allowed_methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr std::string_view allowed_headers =
    "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id, X-Min-Position";
constexpr std::string_view exposed_headers = "ETag, Location, X-Position, Consistency-Token, X-Request-Id, Retry-After, Idempotent-Replayed";
constexpr std::string_view preflight_max_age = "600";  // seconds a browser may cache the preflight

// Appends to an existing Vary rather than replacing it (a response may already vary on more).
void add_vary_origin(http_response& response) {
  for (auto& [name, value] : response.headers) {
    if (name != "Vary") continue;
    if (value.find("Origin") == std::string::npos) value += ", Origin";
    return;
  }
  response.headers.emplace_back("Vary", "Origin");
}

}  // namespace

cors_policy::cors_policy(std::vector<std::string> allowed_origins) : origins_(std::move(allowed_origins)) {}

bool cors_policy::is_preflight(const http_request& request) const {
  return request.method == "OPTIONS" && request.header("origin").has_value() &&
         request.header("access-control-request-method").has_value();
}

std::optional<http_response> cors_policy::preflight(const http_request& request) const {
  if (!is_preflight(request)) return std::nullopt;
  const auto origin = *request.header("origin");
  if (!allowed(origin)) return std::nullopt;
  http_response response;
  response.status = 204;
  response.set_header("Access-Control-Allow-Origin", allow_origin_value(origin));
  response.set_header("Access-Control-Allow-Methods", std::string(allowed_methods));
  response.set_header("Access-Control-Allow-Headers", std::string(allowed_headers));
  response.set_header("Access-Control-Max-Age", std::string(preflight_max_age));
  add_vary_origin(response);
  return response;
}

void cors_policy::decorate(const http_request& request, http_response& response) const {
  if (origins_.empty()) return;  // CORS is off: responses do not depend on Origin
  // Even a refused origin's response varies by Origin: a cache must not hand it to an allowed one.
  add_vary_origin(response);
  const auto origin = request.header("origin");
  if (!origin || !allowed(*origin)) return;
  response.set_header("Access-Control-Allow-Origin", allow_origin_value(*origin));
  response.set_header("Access-Control-Expose-Headers", std::string(exposed_headers));
}

bool cors_policy::allowed(std::string_view origin) const {
  if (origin.empty()) return false;
  return std::any_of(origins_.begin(), origins_.end(),
                     [origin](const std::string& entry) { return entry == origin || entry == any_origin; });
}

// An origin listed by name is echoed; one admitted only by "*" is answered "*", which browsers
// accept because the gateway never allows credentials (bearer tokens travel in a header).
std::string cors_policy::allow_origin_value(std::string_view origin) const {
  const bool listed = std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
  return listed ? std::string(origin) : std::string(any_origin);
}

}  // namespace cqrs::gateway
