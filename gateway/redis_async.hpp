#pragma once

// A non-blocking Redis connection for the I/O threads: hiredis's async API driven by the server's
// Boost.Asio io_context (hiredis ships no Asio adapter; redis_async.cpp is one). Commands from
// many HTTP requests pipeline onto one connection and their replies come back in order, so a
// Redis read costs the I/O thread two small writes and a read, with no thread hop and no thread
// blocked waiting for Redis.
//
// Failures are values (redis_result without a reply): Redis refused or lost the connection, did
// not answer within the command timeout, or is in its reconnect backoff. The connection opens
// lazily on first use and again on the first use after a failure, at most once per backoff, so
// a Redis that is down costs each request one branch, not a connect attempt.
//
// Bounds: nothing queues here beyond the commands in flight, and the server has at most one call
// in flight per request it holds (connections x pipelined requests, both capped). A connect is
// non-blocking (a silent host is caught by the command timeout), but hiredis resolves a host
// name with a blocking getaddrinfo: configure an address, not a name, for the I/O threads' sake.
//
// Asio and hiredis's async header stay in redis_async.cpp: this header forward-declares the
// io_context and hides the rest behind a pimpl.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/redis_client.hpp"

namespace boost::asio {
class io_context;
}

namespace cqrs::gateway {

namespace detail {
struct redis_session;  // one hiredis context and its Asio hooks (redis_async.cpp)
}

// A Lua script with its SHA1 computed locally, so EVALSHA can be pipelined right behind the
// SCRIPT LOAD that each new connection sends, without waiting for the load's reply.
class redis_lua_script {
 public:
  explicit redis_lua_script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha() const { return sha_; }

 private:
  std::string source_;
  std::string sha_;
};

// A reply (which may itself be an error reply, e.g. WRONGTYPE: a value the caller inspects), or
// the reason there is none.
struct redis_result {
  std::optional<projections::redis_reply> reply;
  std::string failure;  // set when there is no reply

  bool ok() const { return reply.has_value(); }
  static redis_result failed(std::string why) { return {std::nullopt, std::move(why)}; }
};

using redis_callback = std::function<void(redis_result)>;

struct redis_async_options {
  // A command without a reply by then fails the connection (hiredis 0.14 has no timeouts of its
  // own): a stalled Redis must not hold requests longer than the PostgreSQL fallback takes.
  std::chrono::milliseconds command_timeout{1000};
  // After a failure, calls fail at once for this long instead of reconnecting on every request.
  std::chrono::milliseconds reconnect_backoff{200};
  // Loaded (SCRIPT LOAD) first thing on every new connection.
  std::vector<const redis_lua_script*> scripts;
};

class redis_async {
 public:
  // `url` as projections::parse_redis_url (throws std::invalid_argument). Connects on first use.
  // The scripts in `options` must outlive the connection.
  redis_async(boost::asio::io_context& io, std::string_view url, redis_async_options options = {});
  // Fails the commands still waiting (their callbacks run now, with a failure). Destroy it before
  // the io_context, and not while that io_context runs handlers of this connection on another thread.
  ~redis_async();
  redis_async(const redis_async&) = delete;
  redis_async& operator=(const redis_async&) = delete;

  // Thread-safe. Each call runs on the connection's own strand; `done` is called exactly once, on
  // that strand: post to your own executor from it, and do no heavy work there.
  void command(std::vector<std::string> args, redis_callback done);
  // EVALSHA, loading the script and retrying once when Redis answers NOSCRIPT (a restarted or
  // flushed server).
  void evaluate(const redis_lua_script& script, std::vector<std::string> keys, std::vector<std::string> args,
                redis_callback done);

  // The commands back to back on the connection (nothing else between them in the pipeline, though
  // other clients' commands may run between them on the server); `done` gets an array reply of
  // their replies in order, or the first failure.
  void pipeline(std::vector<std::vector<std::string>> commands, redis_callback done);

  // Commands sent and not yet answered (a gauge for /metrics; read from any thread).
  std::size_t in_flight() const;

 private:
  friend struct detail::redis_session;
  struct impl;
  // Shared with the handlers queued on the io_context, which may run after this object is gone.
  std::shared_ptr<impl> impl_;
};

}  // namespace cqrs::gateway
