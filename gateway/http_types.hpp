#pragma once

// The gateway's HTTP vocabulary, free of Beast and Asio: the server (http_server.cpp, the only
// translation units that include Beast) converts to and from these, and everything else (routes,
// auth, limits) is plain C++ that compiles fast and tests without sockets.
//
// A request is answered in steps. The router runs on an I/O thread and may only do cheap work
// (parse, validate, authorize); anything that touches PostgreSQL or Redis is an `offload`: the
// server runs its `work` on that dependency's bounded pool (a bulkhead) and resumes the
// connection when it is done, never blocking an I/O thread. Work returns the next step: a
// response, or another offload (e.g. Redis missed, so read PostgreSQL; or not yet consistent, so
// look again after `delay`, which the server waits on a timer, holding no thread).
//
// A Redis read need not leave the I/O thread at all: a `redis_call` runs a Lua script on the
// server's non-blocking Redis connection (redis_async.hpp), and its continuation runs on the I/O
// thread with the reply or the failure, answering at once (a hit) or returning an offload (a
// miss, or Redis down: read PostgreSQL on its pool).
//
// Nor need a command decided on a cached aggregate: an `append_call` hands its one append to the
// server's committer (core/append_committer.hpp, a thread of its own writing groups), and its
// continuation runs on the I/O thread with the answer. Without a committer, or when its queue is
// full, the continuation hears `refused` and falls back to an offload.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/append_committer.hpp"
#include "core/events.hpp"

namespace cqrs::gateway {

// Header names are stored lowercase; values as received.
using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: "/v1/products?q=lamp"
  std::string path;    // percent-decoded path without the query: "/v1/products"
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded, in order
  header_list headers;
  std::string body;
  std::string remote_address;  // the peer's IP address
  // The path's segments, each percent-decoded on its own (an encoded '/' stays inside its
  // segment), as the server read the target, for the router to take; empty when the server did
  // not read them (the router reads the target itself then).
  std::vector<std::string> segments;

  // The first header with this (lowercase) name.
  std::optional<std::string_view> header(std::string_view lowercase_name) const;
  // The first query parameter with this name.
  std::optional<std::string_view> query_param(std::string_view name) const;
};

struct http_response {
  int status = 200;
  header_list headers;  // the server adds Content-Length, Connection and Date itself
  std::string body;

  void set_header(std::string name, std::string value);
};

// The dependencies a request's work can need, each behind its own pool.
enum class pool_kind { postgres, redis };
std::string_view to_string(pool_kind kind);

class worker_context;
class redis_lua_script;
struct redis_result;
struct offload;
struct redis_call;
struct append_call;
struct external_call;
using step = std::variant<http_response, offload, redis_call, append_call, external_call>;

struct offload {
  pool_kind pool = pool_kind::postgres;
  std::function<step(worker_context&)> work;
  std::chrono::milliseconds delay{0};  // wait this long first (on a timer, not on a thread)
};

// EVALSHA `script` with `keys` and `args` on the connection's I/O thread, or, without a script,
// `commands` back to back (their replies as one array reply); `then` runs there too, with the
// reply or why there is none, so it must stay cheap (no blocking calls: offload those).
struct redis_call {
  const redis_lua_script* script = nullptr;  // outlives the server (built before it, in main)
  std::vector<std::string> keys;
  std::vector<std::string> args;
  std::function<step(redis_result)> then;
  std::vector<std::vector<std::string>> commands;  // when script is null
  std::chrono::milliseconds delay{0};  // wait this long first (on a timer: a read looked at again)
};

// One groupable append for the server's committer; `then` runs on the I/O thread with its answer
// (refused when there is no committer or it refused the append), so it must stay cheap.
struct append_call {
  core::append_request request;
  std::function<step(core::committer_answer)> then;
};

// Work on a pool the application owns (the password pool: argon2id must run neither on an I/O
// thread nor on a database pool). `start` runs on the I/O thread, submits the work and returns at
// once; it must call `resume` exactly once, from any thread (at once when its pool refused the
// work), with the continuation, which the server then runs on the connection's I/O thread.
struct external_call {
  using continuation = std::function<step()>;
  std::function<void(std::function<void(continuation)> resume)> start;
};

// What the router made of a request: the route's name for metrics and logs ("GET /v1/products/{id}",
// or "unmatched"), and the first step.
struct routed {
  std::string route;
  step first;
};

// The server's view of the application (implemented by gateway::router). The server calls
// route() on an I/O thread, runs offloads on their pools, and passes every response, including
// the ones it makes itself, through finish().
class request_handler {
 public:
  virtual ~request_handler() = default;

  virtual routed route(http_request& request) = 0;
  // The pool for `kind` is saturated: 503 with Retry-After.
  virtual http_response overloaded(const http_request& request, pool_kind kind) = 0;
  // Work threw: a broken dependency (`dependency_down`: PostgreSQL or Redis unreachable, a
  // commit in doubt) answers 503, anything else is a bug and answers 500; never the exception's
  // text to the client.
  virtual http_response failed(const http_request& request, std::string_view what, bool dependency_down) = 0;
  // The server refused the request before routing it: 400 unparsable, 408 too slow, 413 body too
  // large, 431 headers too large.
  virtual http_response refused(const http_request& request, int status, std::string_view detail) = 0;
  // Every response goes through here before it is written: request id, CORS headers, metrics, log.
  virtual void finish(const http_request& request, const std::string& route, http_response& response,
                      std::chrono::nanoseconds elapsed) = 0;
};

}  // namespace cqrs::gateway
