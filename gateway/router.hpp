#pragma once

// Routes requests to handlers and wraps them in the cross-cutting layers, in this order:
// request id (accepted from X-Request-Id when sane, else generated), CORS (preflight answered
// here), rate limit (per token subject, else per address), route match (404 / 405), body limits
// and content type, authentication and role (401 / 403), then the handler. finish() adds the
// request id and CORS headers to every response, records metrics and writes the access log.
//
// Handlers run on an I/O thread: they parse and validate, and return an offload for anything that
// touches PostgreSQL or Redis (see http_types.hpp).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/access.hpp"
#include "gateway/http_types.hpp"

namespace cqrs::core {
class metrics_registry;
}

namespace cqrs::gateway {

struct gateway_config;
class jwt_verifier;
class rate_limiter;
class cors_policy;
class http_metrics;

struct request_context {
  http_request& request;
  std::map<std::string, std::string> params;  // path parameters by name, percent-decoded
  std::optional<principal> caller;
  std::string request_id;
};

using route_handler = std::function<step(request_context&)>;

struct route_spec {
  std::string method;   // "GET"
  std::string pattern;  // "/v1/products/{id}/reservations/{rid}": literal segments and {name}s
  access_policy who = access_policy::anyone();
  route_handler handler;
  bool takes_json_body = false;  // 415 unless Content-Type is application/json; 400 unless parsable
};

// The shared pieces a router needs; all outlive it.
struct router_dependencies {
  const gateway_config& config;
  const jwt_verifier& tokens;
  rate_limiter& limiter;
  const cors_policy& cors;
  http_metrics& metrics;
};

class router final : public request_handler {
 public:
  explicit router(router_dependencies deps);
  ~router() override;
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  void add(route_spec spec);

  routed route(http_request& request) override;
  http_response overloaded(const http_request& request, pool_kind kind) override;
  http_response failed(const http_request& request, std::string_view what, bool dependency_down) override;
  http_response refused(const http_request& request, int status, std::string_view detail) override;
  void finish(const http_request& request, const std::string& route, http_response& response,
              std::chrono::nanoseconds elapsed) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

namespace detail {
// 1 to 128 characters of [A-Za-z0-9._-]: safe to echo in a header and to write in a log line.
bool is_valid_request_id(std::string_view id);
// 32 random lowercase hex digits.
std::string generate_request_id();
}  // namespace detail

}  // namespace cqrs::gateway
