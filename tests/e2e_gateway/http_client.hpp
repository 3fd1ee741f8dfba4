#pragma once

// A small blocking HTTP/1.1 client for the gateway's e2e tests: one connection per request, so a
// response that closes the connection (413, 400) cannot poison the next test. HTTPS when given a
// CA file (the peer's certificate is verified against it and the host, as a user's client does).
// Beast is included only by http_client.cpp.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace cqrs::tests {

using http_headers = std::vector<std::pair<std::string, std::string>>;

struct http_answer {
  int status = 0;
  http_headers headers;  // names lowercased
  std::string body;

  // The first header with this name (any case).
  std::optional<std::string> header(std::string_view name) const;
  // The body parsed as JSON; throws when it is not.
  boost::json::value json() const;
  // "application/problem+json" (parameters stripped)?
  bool is_problem() const;
};

// Everything the server said, for CHECK messages.
std::string describe(const http_answer& answer);

struct http_call {
  std::string method = "GET";
  std::string target = "/";
  http_headers headers;                    // sent as given
  std::optional<std::string> body;         // sent with Content-Type application/json unless headers set one
  std::optional<std::uint64_t> declared_length;  // a Content-Length to announce instead of the body's size
};

class http_client {
 public:
  // `ca_file` empty: plain HTTP.
  http_client(std::string host, std::uint16_t port, std::string ca_file = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(30));

  http_answer send(const http_call& call) const;

  http_answer get(const std::string& target, http_headers headers = {}) const;
  http_answer post(const std::string& target, const std::string& body, http_headers headers = {}) const;

  std::uint16_t port() const { return port_; }

 private:
  std::string host_;
  std::uint16_t port_;
  std::string ca_file_;
  std::chrono::milliseconds timeout_;
};

// "Authorization: Bearer <token>", as a header list to extend.
http_headers bearer(const std::string& token);

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view text);

}  // namespace cqrs::tests
