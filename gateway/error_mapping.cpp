#include "gateway/error_mapping.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace cqrs::gateway {

error_mapping make_error_mapping(int status, std::string_view code, std::string title) {
  return {status, fmt::format("https://cqrs.dev/problems/{}", code), std::move(title)};
}

namespace {

error_mapping make(int status, std::string_view code, std::string title) {
  return make_error_mapping(status, code, std::move(title));
}

}  // namespace

std::string_view to_string(errc code) {
  switch (code) {
    case errc::malformed_request: return "malformed_request";
    case errc::validation_failed: return "validation_failed";
    case errc::unauthorized: return "unauthorized";
    case errc::forbidden: return "forbidden";
    case errc::route_not_found: return "route_not_found";
    case errc::method_not_allowed: return "method_not_allowed";
    case errc::resource_not_found: return "resource_not_found";
    case errc::payload_too_large: return "payload_too_large";
    case errc::headers_too_large: return "headers_too_large";
    case errc::unsupported_media_type: return "unsupported_media_type";
    case errc::rate_limited: return "rate_limited";
    case errc::overloaded: return "overloaded";
    case errc::not_yet_consistent: return "not_yet_consistent";
    case errc::dependency_unavailable: return "dependency_unavailable";
    case errc::request_timeout: return "request_timeout";
    case errc::internal_error: return "internal_error";
  }
  std::abort();  // not an enumerator: memory corruption
}

error_mapping map_error(errc code) {
  const auto name = to_string(code);
  switch (code) {
    case errc::malformed_request: return make(400, name, "The request is malformed");
    case errc::validation_failed: return make(400, name, "The request has invalid fields");
    case errc::unauthorized: return make(401, name, "A valid bearer token is required");
    case errc::forbidden: return make(403, name, "The token lacks the required role");
    case errc::route_not_found: return make(404, name, "No such route");
    case errc::method_not_allowed: return make(405, name, "Method not allowed on this route");
    case errc::resource_not_found: return make(404, name, "No such resource");
    case errc::payload_too_large: return make(413, name, "The body is too large");
    case errc::headers_too_large: return make(431, name, "The headers are too large");
    case errc::unsupported_media_type: return make(415, name, "The body must be application/json");
    case errc::rate_limited: return make(429, name, "Too many requests");
    case errc::overloaded: return make(503, name, "The service is saturated; retry later");
    case errc::not_yet_consistent: return make(503, name, "The read model has not reached the position yet");
    case errc::dependency_unavailable: return make(503, name, "A dependency is unavailable");
    case errc::request_timeout: return make(408, name, "The request was not received in time");
    case errc::internal_error: return make(500, name, "Internal error");
  }
  std::abort();
}

error_mapping map_error(commands::errc code, bool caller_expectation) {
  using commands::errc;
  const auto name = commands::to_string(code);
  switch (code) {
    case errc::version_conflict:
      return caller_expectation ? make(412, name, "The stream is no longer at the If-Match version")
                                : make(409, name, "Concurrent writers kept conflicting; retry");
    case errc::idempotency_key_reused:
      return make(422, name, "The idempotency key was used for a different command");
    case errc::invalid_request: return make(400, name, "The request was refused by the event store");
  }
  std::abort();
}

}  // namespace cqrs::gateway
