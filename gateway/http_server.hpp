#pragma once

// The HTTP/1.1 server (Boost.Beast, C++20 coroutines). N I/O threads, each running its own
// io_context (a lane); accepted connections are spread over the lanes round robin and stay on
// theirs; keep-alive and pipelining (requests read ahead of their responses, at most
// max_pipelined, answered in order); header and body limits, read and idle timeouts, a connection
// cap. Offloads run on the worker pools (http_types.hpp); a delayed offload waits on a timer.
// Redis calls run on the server's own async Redis connections, one per lane, shared by that
// lane's connections, on the lane's thread.
// HTTPS (TLS 1.3; 1.2 only when allowed) unless configured for plain HTTP; SIGHUP loads the
// certificate and key again for new connections, while open ones keep theirs. Every answer carries
// Strict-Transport-Security.
// stop(): stop accepting, let in-flight requests finish until the deadline, then close the rest.
// Before that, the drain (drain_state.hpp): marked draining at once, every response closes its
// connection, and new connections are still accepted for limits.drain_delay.
// Beast and Asio are included only by http_server.cpp.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gateway/gateway_config.hpp"
#include "gateway/http_types.hpp"
#include "gateway/redis_async.hpp"
#include "gateway/tls_context.hpp"

namespace cqrs::gateway {

class worker_pool;
class http_metrics;
class drain_state;

struct server_dependencies {
  request_handler& handler;
  worker_pool& postgres;
  worker_pool& redis;
  http_metrics* metrics = nullptr;
  // Where redis_call steps go; empty: they fail (and their continuations fall back).
  std::string redis_url = {};
  redis_async_options redis_options = {};
  // Where append_call steps go; null: they hear refused (and their continuations fall back).
  // Must outlive the server's run(), and be stopped before the server is destroyed.
  core::append_committer* committer = nullptr;
  // HTTPS with these files (read at construction, and again on SIGHUP for new connections);
  // nothing: plain HTTP.
  std::optional<tls_config> tls = {};
  // Where the server says what a SIGHUP did; null: nowhere.
  const core::logger* log = nullptr;
  // Marked draining when the stop begins (read by /readyz); null: nobody else is told.
  drain_state* drain = nullptr;
};

class http_server {
 public:
  // Binds and listens at once (throws std::system_error when the address is taken); serves only
  // after run().
  http_server(const std::string& host, std::uint16_t port, int threads, server_limits limits,
              server_dependencies deps);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  std::uint16_t port() const;  // the bound port (useful with port 0)
  // Serves on `threads` threads until stop() has drained; blocks the caller.
  void run();
  // Thread-safe and signal-handler-free: call from any thread (main uses an asio signal_set).
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cqrs::gateway
