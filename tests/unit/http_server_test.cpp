// http_server over real loopback sockets, with a fake request_handler and worker pools whose
// contexts never connect (no PostgreSQL or Redis). The client side is raw Asio/Beast, each read
// bounded by a timeout so that a server bug fails a test instead of hanging it.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "core/errors.hpp"
#include "gateway/drain_state.hpp"
#include "gateway/http_server.hpp"
#include "gateway/redis_async.hpp"
#include "gateway/worker_pool.hpp"
#include "projections/redis_client.hpp"
#include "tests/support/polling.hpp"

namespace cqrs::gateway {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

http_response text(int status, std::string body) {
  http_response response;
  response.status = status;
  response.body = std::move(body);
  response.set_header("Content-Type", "text/plain");
  return response;
}

// Routes by path to the test's handlers; records what finish() saw, in order.
class fake_handler final : public request_handler {
 public:
  using handler = std::function<step(http_request&)>;

  void on(std::string path, handler h) { routes_[std::move(path)] = std::move(h); }

  routed route(http_request& request) override {
    const auto it = routes_.find(request.path);
    if (it == routes_.end()) return {"unmatched", text(404, "no route")};
    return {"GET " + request.path, it->second(request)};
  }
  http_response overloaded(const http_request&, pool_kind kind) override {
    return text(503, "overloaded " + std::string(to_string(kind)));
  }
  http_response failed(const http_request&, std::string_view what, bool dependency_down) override {
    return text(dependency_down ? 503 : 500, "failed: " + std::string(what));
  }
  http_response refused(const http_request&, int status, std::string_view detail) override {
    return text(status, std::string(detail));
  }
  void finish(const http_request&, const std::string& route, http_response& response,
              std::chrono::nanoseconds) override {
    response.set_header("X-Finished", route);
    std::lock_guard lock(mutex_);
    finished_.push_back(route);
  }

  std::vector<std::string> finished() {
    std::lock_guard lock(mutex_);
    return finished_;
  }

 private:
  std::map<std::string, handler> routes_;
  std::mutex mutex_;
  std::vector<std::string> finished_;
};

worker_settings unused_settings() {
  worker_settings settings;
  settings.pg_url = "postgresql://127.0.0.1:1/unused";
  settings.redis_url = "redis://127.0.0.1:1/0";
  return settings;
}

// A server on a free port, served by a thread of its own for the test's duration.
struct test_server {
  explicit test_server(request_handler& handler, server_limits limits = {}, int postgres_threads = 2,
                       std::size_t postgres_queue = 16, std::string redis_url = {})
      : postgres(pool_kind::postgres, postgres_threads, postgres_queue, settings),
        redis(pool_kind::redis, 1, 16, settings),
        server("127.0.0.1", 0, 2, limits, server_dependencies{handler, postgres, redis, nullptr, std::move(redis_url)}),
        runner([this] { server.run(); }) {}
  ~test_server() {
    server.stop();
    if (runner.joinable()) runner.join();
  }

  worker_settings settings = unused_settings();
  worker_pool postgres;
  worker_pool redis;
  http_server server;
  std::thread runner;
};

using response = http::response<http::string_body>;

// A blocking-style client whose every read gives up after `patience`.
class client {
 public:
  explicit client(std::uint16_t port) { socket_.connect({net::ip::make_address("127.0.0.1"), port}); }

  void send(std::string_view raw) { net::write(socket_, net::buffer(raw.data(), raw.size())); }

  std::optional<response> read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.skip(head);
    boost::system::error_code result = net::error::timed_out;
    http::async_read(socket_, buffer_, parser, [&](boost::system::error_code ec, std::size_t) { result = ec; });
    finish_within(patience);
    if (result) return std::nullopt;
    return parser.release();
  }

  // Whether the server closes the connection (rather than answering or staying silent).
  bool closed_by_server() {
    char byte = 0;
    boost::system::error_code result = net::error::timed_out;
    socket_.async_read_some(net::buffer(&byte, 1), [&](boost::system::error_code ec, std::size_t) { result = ec; });
    finish_within(patience);
    return result == net::error::eof || result == net::error::connection_reset;
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  std::chrono::milliseconds patience{3000};

 private:
  void finish_within(std::chrono::milliseconds limit) {
    io_.restart();
    io_.run_for(limit);
    if (!io_.stopped()) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      io_.restart();
      io_.run();
    }
  }

  net::io_context io_;
  tcp::socket socket_{io_};
  boost::beast::flat_buffer buffer_;
};

std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

using cqrs::tests::eventually;

TEST_CASE("http_server answers a GET with the decoded request, through finish()") {
  fake_handler handler;
  handler.on("/v1/a b", [](http_request& r) -> step {
    std::string body = r.path + "|" + r.remote_address + "|" + std::string(r.header("x-custom").value_or("-"));
    for (const auto& [k, v] : r.query) body += "|" + k + "=" + v;
    return text(200, body);
  });
  test_server s(handler);
  client c(s.server.port());
  c.send(get("/v1/a%20b?x=1&y=a+b%21&flag", "X-Custom: Value\r\n"));
  const auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  CHECK(r->body() == "/v1/a b|127.0.0.1|Value|x=1|y=a b!|flag=");
  CHECK((*r)[http::field::content_length] == std::to_string(r->body().size()));
  CHECK_FALSE((*r)[http::field::date].empty());
  CHECK((*r)["X-Finished"] == "GET /v1/a b");
  CHECK(r->keep_alive());
  // Sent on every answer, plain HTTP included (behind a TLS-terminating balancer).
  CHECK((*r)[http::field::strict_transport_security] == "max-age=31536000");
}

TEST_CASE("http_server keeps a connection alive across requests, offloaded or not") {
  fake_handler handler;
  handler.on("/direct", [](http_request&) -> step { return text(200, "direct"); });
  handler.on("/offloaded", [](http_request&) -> step {
    return offload{pool_kind::redis, [](worker_context&) -> step { return text(200, "from a worker"); }, 0ms};
  });
  test_server s(handler);
  client c(s.server.port());
  for (int i = 0; i < 3; ++i) {
    c.send(get("/direct"));
    const auto first = c.read();
    REQUIRE(first);
    CHECK(first->body() == "direct");
    c.send(get("/offloaded"));
    const auto second = c.read();
    REQUIRE(second);
    CHECK(second->body() == "from a worker");
  }
  CHECK(handler.finished().size() == 6);
}

TEST_CASE("http_server runs a redis_call's continuation with the failure, on the I/O thread, then its next step") {
  static const redis_lua_script script("return 1");
  fake_handler handler;
  std::atomic<int> continued{0};
  handler.on("/cached", [&continued](http_request& r) -> step {
    return redis_call{&script, {"k"}, {r.target}, [&continued, target = r.target](redis_result result) -> step {
                        ++continued;
                        if (result.ok()) return text(200, "hit");
                        // Redis is down: the fallback reads on a pool, as the product route does.
                        return offload{pool_kind::postgres,
                                       [target, why = result.failure](worker_context&) -> step {
                                         return text(200, "fallback " + target + (why.empty() ? "" : " (why given)"));
                                       },
                                       0ms};
                      },
                      {}};
  });
  handler.on("/bug", [](http_request&) -> step {
    return redis_call{&script, {}, {}, [](redis_result) -> step { throw std::logic_error("continuation bug"); }, {}};
  });
  SUBCASE("Redis unreachable") {
    test_server s(handler, {}, 2, 16, "redis://127.0.0.1:1/0");  // nothing listens on port 1
    client c(s.server.port());
    // Pipelined: answered in order, each through its continuation.
    c.send(get("/cached?n=1") + get("/cached?n=2") + get("/cached?n=3"));
    for (int n = 1; n <= 3; ++n) {
      const auto r = c.read();
      REQUIRE(r);
      CHECK(r->result_int() == 200);
      CHECK(r->body() == "fallback /cached?n=" + std::to_string(n) + " (why given)");
    }
    CHECK(continued == 3);
    c.send(get("/bug"));
    const auto r = c.read();
    REQUIRE(r);
    CHECK(r->result_int() == 500);
    CHECK(r->body() == "failed: continuation bug");
  }
  SUBCASE("no Redis configured") {
    test_server s(handler);
    client c(s.server.port());
    c.send(get("/cached"));
    const auto r = c.read();
    REQUIRE(r);
    CHECK(r->body() == "fallback /cached (why given)");
  }
}

TEST_CASE("http_server passes request bodies whole, by length or chunked") {
  fake_handler handler;
  handler.on("/echo", [](http_request& r) -> step { return text(200, r.method + ":" + r.body); });
  test_server s(handler);
  client c(s.server.port());
  c.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\n\r\nhello world");
  const auto by_length = c.read();
  REQUIRE(by_length);
  CHECK(by_length->body() == "POST:hello world");
  c.send("PUT /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  const auto chunked = c.read();
  REQUIRE(chunked);
  CHECK(chunked->body() == "PUT:hello world");
}

TEST_CASE("http_server answers Expect: 100-continue before the client sends its body") {
  fake_handler handler;
  handler.on("/echo", [](http_request& r) -> step { return text(200, r.method + ":" + r.body); });
  test_server s(handler);
  client c(s.server.port());
  c.send("POST /echo HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  const auto interim = c.read();
  REQUIRE(interim);
  CHECK(interim->result_int() == 100);
  c.send("hello");
  const auto answer = c.read();
  REQUIRE(answer);
  CHECK(answer->result_int() == 200);
  CHECK(answer->body() == "POST:hello");
}

TEST_CASE("http_server answers pipelined requests in order while processing them concurrently") {
  fake_handler handler;
  handler.on("/slow", [](http_request&) -> step {
    return offload{pool_kind::postgres, [](worker_context&) -> step { return text(200, "slow"); }, 300ms};
  });
  handler.on("/offloaded", [](http_request&) -> step {
    return offload{pool_kind::postgres, [](worker_context&) -> step { return text(200, "offloaded"); }, 0ms};
  });
  handler.on("/direct", [](http_request&) -> step { return text(200, "direct"); });
  test_server s(handler);
  client c(s.server.port());
  c.send(get("/slow") + get("/offloaded") + get("/direct"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 3; ++i) {
    const auto r = c.read();
    REQUIRE(r);
    bodies.push_back(r->body());
  }
  CHECK(bodies == std::vector<std::string>{"slow", "offloaded", "direct"});
  // finish() runs when a response is ready: the slow one was ready last, so the others did not
  // wait for it to be processed, only to be written.
  const auto finished = handler.finished();
  REQUIRE(finished.size() == 3);
  CHECK(finished.back() == "GET /slow");
}

TEST_CASE("http_server answers HEAD with the length but no body") {
  fake_handler handler;
  handler.on("/thing", [](http_request&) -> step { return text(200, "twelve bytes"); });
  test_server s(handler);
  client c(s.server.port());
  c.send("HEAD /thing HTTP/1.1\r\nHost: test\r\n\r\n");
  const auto r = c.read(true);
  REQUIRE(r);
  CHECK((*r)[http::field::content_length] == "12");
  CHECK(r->body().empty());
  c.send(get("/thing"));  // nothing stray was written after the head
  const auto after = c.read();
  REQUIRE(after);
  CHECK(after->body() == "twelve bytes");
}

TEST_CASE("http_server refuses an oversized body with 413 and closes") {
  fake_handler handler;
  server_limits limits;
  limits.max_body_bytes = 1024;
  test_server s(handler, limits);
  client c(s.server.port());
  c.send("POST /x HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n" + std::string(2000, 'a'));
  const auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 413);
  CHECK_FALSE(r->keep_alive());
  CHECK(c.closed_by_server());
  CHECK(handler.finished() == std::vector<std::string>{"refused"});
}

TEST_CASE("http_server refuses huge headers with 431") {
  fake_handler handler;
  server_limits limits;
  limits.max_header_bytes = 1024;
  test_server s(handler, limits);
  client c(s.server.port());
  c.send(get("/x", "X-Big: " + std::string(4000, 'b') + "\r\n"));
  const auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 431);
  CHECK(c.closed_by_server());
}

TEST_CASE("http_server refuses garbage and bad percent-encoding with 400") {
  fake_handler handler;
  handler.on("/ok", [](http_request&) -> step { return text(200, "ok"); });
  test_server s(handler);
  SUBCASE("garbage") {
    client c(s.server.port());
    c.send("NOT HTTP AT ALL\r\n\r\n");
    const auto r = c.read();
    REQUIRE(r);
    CHECK(r->result_int() == 400);
    CHECK(c.closed_by_server());
  }
  SUBCASE("invalid percent-encoding, after the responses owed") {
    client c(s.server.port());
    c.send(get("/ok") + get("/bad%zz"));
    const auto first = c.read();
    REQUIRE(first);
    CHECK(first->result_int() == 200);
    const auto second = c.read();
    REQUIRE(second);
    CHECK(second->result_int() == 400);
    CHECK(c.closed_by_server());
  }
}

// "/counted" counts its calls; "/echo" answers its body.
void add_counted_and_echo(fake_handler& handler, std::atomic<int>& counted) {
  handler.on("/counted", [&counted](http_request&) -> step {
    ++counted;
    return text(200, "counted");
  });
  handler.on("/echo", [](http_request& r) -> step { return text(200, "echo:" + r.body); });
}

// The control for the case below: the same bytes, well framed, run both requests.
TEST_CASE("http_server runs a request pipelined after a well-framed body") {
  fake_handler handler;
  std::atomic<int> counted{0};
  add_counted_and_echo(handler, counted);
  test_server s(handler);
  client c(s.server.port());
  c.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello" + get("/counted"));
  const auto first = c.read();
  REQUIRE(first);
  CHECK(first->body() == "echo:hello");
  const auto second = c.read();
  REQUIRE(second);
  CHECK(second->body() == "counted");
  CHECK(counted == 1);
}

TEST_CASE("http_server takes an HTTP/1.0 request without Host, which that version does not require") {
  fake_handler handler;
  std::atomic<int> counted{0};
  add_counted_and_echo(handler, counted);
  test_server s(handler);
  client c(s.server.port());
  c.send("GET /counted HTTP/1.0\r\n\r\n");
  const auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 200);
  CHECK(counted == 1);
}

// Each head frames its body in a way two HTTP hops could read differently; the bytes after it
// are a request a front end would take as body, and that must never run here.
TEST_CASE("http_server refuses ambiguous request framing with 400, closes, and never runs what follows") {
  fake_handler handler;
  std::atomic<int> counted{0};
  add_counted_and_echo(handler, counted);
  test_server s(handler);
  const std::string smuggled = get("/counted");

  struct framing {
    const char* name;
    std::string head;  // the request line and fields, without the blank line
    std::string body;
    std::string detail;  // what the refusal says
  };
  const std::string post = "POST /echo HTTP/1.1\r\nHost: test\r\n";
  const std::vector<framing> cases = {
      {"Transfer-Encoding: identity", post + "Transfer-Encoding: identity\r\n", "", "only chunked"},
      {"Transfer-Encoding: gzip", post + "Transfer-Encoding: gzip\r\n", "", "only chunked"},
      {"chunked not last", post + "Transfer-Encoding: chunked, identity\r\n", "", "only chunked"},
      {"a coding before chunked", post + "Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n", "only chunked"},
      {"two Transfer-Encoding fields", post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
       "0\r\n\r\n", "only chunked"},
      {"identity then Content-Length", post + "Transfer-Encoding: identity\r\nContent-Length: 5\r\n", "hello",
       "both Transfer-Encoding and Content-Length"},
      {"chunked then Content-Length", post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n",
       "Content-Length"},
      {"Content-Length then chunked", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n",
       "Transfer-Encoding"},
      {"two identical Content-Length", post + "Content-Length: 5\r\nContent-Length: 5\r\n", "hello",
       "Content-Length given more than once"},
      {"two different Content-Length", post + "Content-Length: 5\r\nContent-Length: 0\r\n", "hello",
       "Content-Length"},
      {"a Content-Length list", post + "Content-Length: 5, 5\r\n", "hello", "one decimal number"},
      {"a folded field", post + "Content-Length: 5\r\nX-Note: one\r\n two\r\n", "hello", "obsolete line folding"},
      {"a folded Transfer-Encoding", post + "Transfer-Encoding:\r\n\tchunked\r\n", "0\r\n\r\n",
       "obsolete line folding"},
      {"Transfer-Encoding on HTTP/1.0", "POST /echo HTTP/1.0\r\nHost: test\r\nTransfer-Encoding: chunked\r\n",
       "0\r\n\r\n", "HTTP/1.0"},
      {"two Host fields", post + "Host: other\r\nContent-Length: 5\r\n", "hello", "Host given more than once"},
      {"no Host on HTTP/1.1", "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n", "hello", "Host missing"},
  };
  for (const auto& framing : cases) {
    CAPTURE(framing.name);
    client c(s.server.port());
    c.send(framing.head + "\r\n" + framing.body + smuggled);
    const auto r = c.read();
    REQUIRE(r);
    CHECK(r->result_int() == 400);
    CHECK(r->body().find(framing.detail) != std::string::npos);
    CHECK_FALSE(r->keep_alive());
    CHECK(c.closed_by_server());
  }
  CHECK(counted == 0);
  CHECK(handler.finished() == std::vector<std::string>(cases.size(), "refused"));
}

TEST_CASE("http_server finds obsolete line folding in a head that arrives in pieces") {
  fake_handler handler;
  std::atomic<int> counted{0};
  handler.on("/counted", [&counted](http_request&) -> step {
    ++counted;
    return text(200, "counted");
  });
  test_server s(handler);
  client c(s.server.port());
  // The fold's CRLF ends one read and its space starts the next.
  c.send("GET /counted HTTP/1.1\r\nHost: test\r\nX-Note: one\r\n");
  std::this_thread::sleep_for(50ms);
  c.send(" two\r\n\r\n" + get("/counted"));
  const auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 400);
  CHECK(r->body() == "obsolete line folding in the request head");
  CHECK(c.closed_by_server());
  CHECK(counted == 0);
}

TEST_CASE("http_server answers 408 when a started request does not arrive in time") {
  fake_handler handler;
  server_limits limits;
  limits.read_timeout = 200ms;
  test_server s(handler, limits);
  client c(s.server.port());
  c.send("GET /x HTTP/1.1\r\nHost: te");
  const auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 408);
  CHECK(c.closed_by_server());
}

TEST_CASE("http_server answers overloaded() when the pool is saturated") {
  fake_handler handler;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  handler.on("/block", [released](http_request&) -> step {
    return offload{pool_kind::postgres, [released](worker_context&) -> step {
                     released.wait();
                     return text(200, "unblocked");
                   }, 0ms};
  });
  handler.on("/other", [](http_request&) -> step {
    return offload{pool_kind::postgres, [](worker_context&) -> step { return text(200, "other"); }, 0ms};
  });
  test_server s(handler, {}, 1, 0);
  client blocked(s.server.port());
  blocked.send(get("/block"));
  REQUIRE(eventually([&] { return s.postgres.busy() == 1; }));
  client refused(s.server.port());
  refused.send(get("/other"));
  const auto r = refused.read();
  REQUIRE(r);
  CHECK(r->result_int() == 503);
  CHECK(r->body() == "overloaded postgres");
  release.set_value();
  const auto first = blocked.read();
  REQUIRE(first);
  CHECK(first->body() == "unblocked");
}

TEST_CASE("http_server answers failed() when work throws") {
  fake_handler handler;
  handler.on("/boom", [](http_request&) -> step {
    return offload{pool_kind::postgres, [](worker_context&) -> step { throw std::runtime_error("boom"); }, 0ms};
  });
  test_server s(handler);
  client c(s.server.port());
  c.send(get("/boom"));
  const auto r = c.read();
  REQUIRE(r);
  CHECK(r->result_int() == 500);
  CHECK(r->body() == "failed: boom");
  CHECK(r->keep_alive());
}

TEST_CASE("http_server tells failed() a broken dependency from a bug") {
  fake_handler handler;
  handler.on("/lost", [](http_request&) -> step {
    return offload{pool_kind::postgres,
                   [](worker_context&) -> step {
                     throw core::store_error(core::failure_kind::connection, "connection refused");
                   },
                   0ms};
  });
  handler.on("/redis", [](http_request&) -> step {
    return offload{pool_kind::redis,
                   [](worker_context&) -> step { throw projections::redis_error("redis read: EOF"); }, 0ms};
  });
  handler.on("/statement", [](http_request&) -> step {
    return offload{pool_kind::postgres,
                   [](worker_context&) -> step {
                     throw core::store_error(core::failure_kind::statement, "column does not exist");
                   },
                   0ms};
  });
  test_server s(handler);
  client c(s.server.port());
  for (const auto& [path, status] : {std::pair{"/lost", 503}, std::pair{"/redis", 503}, std::pair{"/statement", 500}}) {
    CAPTURE(path);
    c.send(get(path));
    const auto r = c.read();
    REQUIRE(r);
    CHECK(r->result_int() == status);
  }
}

TEST_CASE("http_server stop() lets an in-flight request finish, then returns") {
  fake_handler handler;
  std::atomic<bool> routed{false};
  handler.on("/slow", [&routed](http_request&) -> step {
    routed = true;
    return offload{pool_kind::postgres, [](worker_context&) -> step { return text(200, "finished"); }, 300ms};
  });
  test_server s(handler);
  client busy(s.server.port());
  client idle(s.server.port());
  busy.send(get("/slow"));
  REQUIRE(eventually([&] { return routed.load(); }));
  s.server.stop();
  CHECK(idle.closed_by_server());
  const auto r = busy.read();
  REQUIRE(r);
  CHECK(r->body() == "finished");
  CHECK_FALSE(r->keep_alive());
  CHECK(busy.closed_by_server());
  busy.close();
  idle.close();
  s.runner.join();  // run() has returned
  net::io_context io;
  tcp::socket late(io);
  boost::system::error_code ec;
  late.connect({net::ip::make_address("127.0.0.1"), s.server.port()}, ec);
  CHECK(ec);  // no longer accepting
}

TEST_CASE("http_server closes connections beyond the cap at once") {
  fake_handler handler;
  handler.on("/ok", [](http_request&) -> step { return text(200, "ok"); });
  server_limits limits;
  limits.max_connections = 1;
  test_server s(handler, limits);
  client first(s.server.port());
  first.send(get("/ok"));
  REQUIRE(first.read());
  client second(s.server.port());
  CHECK(second.closed_by_server());
  first.send(get("/ok"));
  const auto again = first.read();
  REQUIRE(again);
  CHECK(again->body() == "ok");
}

TEST_CASE("http_server closes an idle keep-alive connection after the idle timeout") {
  fake_handler handler;
  handler.on("/ok", [](http_request&) -> step { return text(200, "ok"); });
  server_limits limits;
  limits.idle_timeout = 200ms;
  test_server s(handler, limits);
  client c(s.server.port());
  c.send(get("/ok"));
  REQUIRE(c.read());
  const auto before = std::chrono::steady_clock::now();
  CHECK(c.closed_by_server());
  const auto waited = std::chrono::steady_clock::now() - before;
  CHECK(waited >= 150ms);
  CHECK(waited < 2s);
}

TEST_CASE("http_server drains on stop(): draining at once, every answer closes its connection, new connections "
          "are accepted for the drain delay, the request in flight finishes") {
  fake_handler handler;
  drain_state drain;
  std::atomic<bool> routed{false};
  handler.on("/ready", [&drain](http_request&) -> step { return text(drain.draining() ? 503 : 200, "ready?"); });
  handler.on("/slow", [&routed](http_request&) -> step {
    routed = true;
    return offload{pool_kind::postgres, [](worker_context&) -> step { return text(200, "finished"); }, 300ms};
  });
  server_limits limits;
  limits.drain_delay = 3000ms;  // long enough for the steps below to happen within it
  const auto settings = unused_settings();
  worker_pool postgres(pool_kind::postgres, 2, 16, settings);
  worker_pool redis(pool_kind::redis, 1, 16, settings);
  http_server server("127.0.0.1", 0, 2, limits,
                     server_dependencies{handler, postgres, redis, nullptr, {}, {}, nullptr, std::nullopt, nullptr, &drain});
  std::thread runner([&server] { server.run(); });
  client kept(server.port());
  kept.send(get("/ready"));
  const auto before = kept.read();
  REQUIRE(before);
  CHECK(before->result_int() == 200);
  CHECK(before->keep_alive());
  client busy(server.port());
  busy.send(get("/slow"));
  REQUIRE(eventually([&] { return routed.load(); }));

  server.stop();
  REQUIRE(eventually([&] { return drain.draining(); }));
  kept.send(get("/ready"));
  const auto after = kept.read();
  REQUIRE(after);
  CHECK(after->result_int() == 503);
  CHECK_FALSE(after->keep_alive());
  CHECK(kept.closed_by_server());
  client late(server.port());  // still accepted while draining
  late.send(get("/ready"));
  const auto late_answer = late.read();
  REQUIRE(late_answer);
  CHECK(late_answer->result_int() == 503);
  CHECK_FALSE(late_answer->keep_alive());
  const auto slow = busy.read();
  REQUIRE(slow);
  CHECK(slow->body() == "finished");
  CHECK_FALSE(slow->keep_alive());
  kept.close();
  late.close();
  busy.close();
  runner.join();  // run() returns once the delay has passed and nothing is in flight
}

}  // namespace
}  // namespace cqrs::gateway
