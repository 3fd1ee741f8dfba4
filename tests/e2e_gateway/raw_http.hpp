#pragma once

// Bytes to the gateway exactly as written, for requests no HTTP client would send: smuggling
// shapes, malformed heads, a head trickled a byte at a time. What comes back is read until the
// server closes the connection (or a time limit), and split into the responses it holds. The
// transport is this one class (Boost.Asio): TLS verified against the stack's CA when its gateway
// serves HTTPS, so the bytes reach the server's HTTP reading exactly as a client's would.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/e2e_gateway/http_client.hpp"

namespace cqrs::tests {

// The stack's CA file when its gateway serves HTTPS (CQRS_HTTP_URL https://, CQRS_TLS_CA_FILE),
// else empty: plain TCP.
std::string gateway_ca_file();

// Everything the server sent on one connection.
struct raw_reply {
  std::vector<http_answer> responses;  // every complete response, in order
  std::string rest;                    // bytes after the last complete response
  bool closed = false;                 // the server ended the connection (FIN or reset)
  std::chrono::milliseconds elapsed{0};  // from the reading's start to the close or the limit

  // The first response; throws when there is none.
  const http_answer& first() const;
};

class raw_connection {
 public:
  // Over TLS when `ca_file` names a CA to verify the server with, else plain TCP.
  raw_connection(const std::string& host, std::uint16_t port, const std::string& ca_file = gateway_ca_file());
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  // Writes all of `bytes`; false when the server has closed the connection (broken pipe, reset).
  bool send(std::string_view bytes);
  // Reads until the server closes the connection or `limit` passes.
  raw_reply read_until_closed(std::chrono::milliseconds limit);
  // Sends `bytes` one at a time, `pause` apart (reading meanwhile), until all are sent or the
  // server answers or closes; then reads until it closes or `limit` passes (counted from the start).
  raw_reply trickle(std::string_view bytes, std::chrono::milliseconds pause, std::chrono::milliseconds limit);

 private:
  struct transport;
  // Reads what arrives within `wait`; false once the server has closed.
  bool read_for(std::chrono::milliseconds wait);
  raw_reply reply(std::chrono::steady_clock::time_point started) const;

  std::unique_ptr<transport> transport_;
  std::string received_;
  bool closed_ = false;
};

// One exchange: opens a connection, sends `bytes`, reads until the server closes it or `limit`.
raw_reply send_raw(std::uint16_t port, std::string_view bytes,
                   std::chrono::milliseconds limit = std::chrono::seconds(5));

// The responses in `bytes` (status, headers lowercased, Content-Length bodies); `rest` gets what
// does not form a complete one.
std::vector<http_answer> split_responses(std::string_view bytes, std::string& rest);

}  // namespace cqrs::tests
