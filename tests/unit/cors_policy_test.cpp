// CORS: preflights from allowed origins are answered here, everyone else gets no CORS headers.

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>

#include "gateway/cors_policy.hpp"

namespace {

using cqrs::gateway::cors_policy;
using cqrs::gateway::http_request;
using cqrs::gateway::http_response;

constexpr std::string_view app = "https://app.example.com";

http_request request(std::string method, std::optional<std::string> origin, bool asks_method = false) {
  http_request r;
  r.method = std::move(method);
  r.path = "/v1/products";
  r.target = r.path;
  if (origin) r.headers.emplace_back("origin", *origin);
  if (asks_method) r.headers.emplace_back("access-control-request-method", "POST");
  return r;
}

http_request preflight_from(std::string origin) { return request("OPTIONS", std::move(origin), true); }

std::optional<std::string> header(const http_response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

cors_policy app_only() { return cors_policy({std::string(app)}); }

}  // namespace

TEST_SUITE("cors") {

TEST_CASE("cors: only an OPTIONS with Origin and Access-Control-Request-Method is a preflight") {
  const auto cors = app_only();
  CHECK(cors.is_preflight(preflight_from(std::string(app))));
  CHECK_FALSE(cors.is_preflight(request("OPTIONS", std::string(app))));
  CHECK_FALSE(cors.is_preflight(request("OPTIONS", std::nullopt, true)));
  CHECK_FALSE(cors.is_preflight(request("POST", std::string(app), true)));
}

TEST_CASE("cors: a preflight from an allowed origin is answered 204 with what may be sent") {
  const auto answer = app_only().preflight(preflight_from(std::string(app)));
  REQUIRE(answer.has_value());
  CHECK(answer->status == 204);
  CHECK(answer->body.empty());
  CHECK(header(*answer, "Access-Control-Allow-Origin") == std::string(app));
  CHECK(header(*answer, "Access-Control-Allow-Methods") == "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  CHECK(header(*answer, "Access-Control-Allow-Headers") ==
        "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id, X-Min-Position");
  CHECK(header(*answer, "Access-Control-Max-Age") == "600");
  CHECK(header(*answer, "Vary") == "Origin");
  CHECK_FALSE(header(*answer, "Access-Control-Allow-Credentials").has_value());
}

TEST_CASE("cors: a preflight from another origin, or no preflight at all, gets no answer here") {
  const auto cors = app_only();
  CHECK_FALSE(cors.preflight(preflight_from("https://evil.example.com")).has_value());
  CHECK_FALSE(cors.preflight(preflight_from("https://app.example.com.evil.example.com")).has_value());
  CHECK_FALSE(cors.preflight(preflight_from("null")).has_value());
  CHECK_FALSE(cors.preflight(request("OPTIONS", std::string(app))).has_value());
}

TEST_CASE("cors: decorate allows and exposes headers to an allowed origin only") {
  const auto cors = app_only();
  http_response allowed;
  cors.decorate(request("GET", std::string(app)), allowed);
  CHECK(header(allowed, "Access-Control-Allow-Origin") == std::string(app));
  CHECK(header(allowed, "Access-Control-Expose-Headers") ==
        "ETag, Location, X-Position, Consistency-Token, X-Request-Id, Retry-After, Idempotent-Replayed");
  CHECK(header(allowed, "Vary") == "Origin");

  http_response other;
  cors.decorate(request("GET", "https://evil.example.com"), other);
  CHECK_FALSE(header(other, "Access-Control-Allow-Origin").has_value());
  CHECK_FALSE(header(other, "Access-Control-Expose-Headers").has_value());
  CHECK(header(other, "Vary") == "Origin");  // so a cache never serves it to the allowed origin

  http_response same_origin;
  cors.decorate(request("GET", std::nullopt), same_origin);
  CHECK_FALSE(header(same_origin, "Access-Control-Allow-Origin").has_value());
}

TEST_CASE("cors: decorate adds Origin to an existing Vary once") {
  const auto cors = app_only();
  http_response response;
  response.set_header("Vary", "Accept-Encoding");
  cors.decorate(request("GET", std::string(app)), response);
  cors.decorate(request("GET", std::string(app)), response);
  CHECK(header(response, "Vary") == "Accept-Encoding, Origin");
}

TEST_CASE("cors: without configured origins no response carries CORS headers") {
  const cors_policy none({});
  CHECK_FALSE(none.preflight(preflight_from(std::string(app))).has_value());
  http_response response;
  none.decorate(request("GET", std::string(app)), response);
  CHECK(response.headers.empty());
}

TEST_CASE("cors: a \"*\" policy allows any origin, without credentials") {
  const cors_policy any({"*"});
  const auto answer = any.preflight(preflight_from("https://anyone.example.org"));
  REQUIRE(answer.has_value());
  CHECK(answer->status == 204);
  CHECK(header(*answer, "Access-Control-Allow-Origin") == "*");
  CHECK_FALSE(header(*answer, "Access-Control-Allow-Credentials").has_value());
  http_response response;
  any.decorate(request("GET", "https://anyone.example.org"), response);
  CHECK(header(response, "Access-Control-Allow-Origin") == "*");
}

TEST_CASE("cors: an origin listed beside \"*\" is echoed by name") {
  const cors_policy mixed({"*", std::string(app)});
  const auto answer = mixed.preflight(preflight_from(std::string(app)));
  REQUIRE(answer.has_value());
  CHECK(header(*answer, "Access-Control-Allow-Origin") == std::string(app));
}

}  // TEST_SUITE
