#pragma once

// One HTTP/1.1 request over a fresh connection, plain or TLS, with Beast: the client side shared by
// the engine's calls to outside services (commands/payment_provider), the payment provider stand-in's
// webhooks and the tests. Every phase has a limit that cancels the operation itself (the Beast
// stream's expiry closes the socket, so a pending connect, handshake, write or read completes with
// a timeout), not merely the wait for it:
//   - resolve, connect and the TLS handshake end by `connect_timeout` from the start (and never
//     after the deadline);
//   - the whole exchange ends by the deadline.
// A host given as an address is connected to directly; a name goes through the system's resolver
// (getaddrinfo on a thread of Asio's), which no limit can cut short.
// TLS: 1.2 or later, the server's chain verified against `ca_file` (else the system's store) and
// its name against the URL's host (what curl --cacert does). Outcomes are values: an answer of any
// status, a timeout, a connection closed without an answer, a connection that failed.
//
// Beast and OpenSSL live in https_client.cpp only; this header needs Asio's awaitable alone.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace cqrs::core {

// scheme://host[:port] and the path under it, from a URL (http or https).
struct http_endpoint {
  bool tls = false;
  std::string host;
  std::string port;      // the URL's, else 443 / 80
  std::string base_path; // the URL's path without a trailing '/' ("" for the root)
};

// Throws std::invalid_argument for a URL that is not http:// or https:// with a host.
http_endpoint parse_http_endpoint(std::string_view url);

using http_headers = std::vector<std::pair<std::string, std::string>>;

struct http_call {
  std::string method = "GET";
  std::string target = "/";  // appended to the endpoint's base path
  http_headers headers;      // Host and, with a body, Content-Type (JSON) and Content-Length are added
  std::string body;
};

struct http_reply {
  enum class outcome {
    answered,               // a complete response, of any status
    timed_out,              // a limit passed: the operation was cancelled, the connection closed
    closed_without_answer,  // connected (and the request maybe sent), then no complete response
    connect_failed,         // no connection: name not resolved, refused, unreachable
    tls_failed,             // the TLS handshake failed (an unverified certificate, a protocol mismatch)
  };
  outcome result = outcome::connect_failed;
  unsigned status = 0;
  http_headers headers;  // names as the server sent them
  std::string body;
  std::string error;  // what failed, for logs; empty when answered

  std::optional<std::string> header(std::string_view name) const;  // case-insensitive
};

std::string_view to_string(http_reply::outcome outcome);

struct https_client_config {
  // PEM file of the CA the server's certificate must chain to; empty: the system's trust store.
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{2000};
  std::size_t body_limit = 1024 * 1024;  // a larger response is a closed_without_answer
};

// Reusable and thread-safe: the TLS context is built once (the CA file read at construction,
// std::runtime_error naming the file when it cannot be read) and shared by concurrent calls.
class https_client {
 public:
  explicit https_client(https_client_config config);
  ~https_client();
  https_client(const https_client&) = delete;
  https_client& operator=(const https_client&) = delete;

  // Blocks the calling thread (an io_context of the call's own) until the reply or the deadline.
  http_reply send(const http_endpoint& to, const http_call& call, std::chrono::steady_clock::time_point deadline) const;

  // The same on the caller's executor, limited to `timeout` from now.
  boost::asio::awaitable<http_reply> async_send(const http_endpoint& to, http_call call,
                                                std::chrono::milliseconds timeout) const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace cqrs::core
