// The Asio time limit against a real TCP server that accepts and never answers: the read is
// cancelled at the deadline (it completes with operation_aborted), nothing stays pending.

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

#include "core/resilience/asio_time_limit.hpp"

using namespace cqrs::core::resilience;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

struct silent_server {
  explicit silent_server(asio::io_context& io) : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  tcp::acceptor acceptor;
  std::optional<tcp::socket> accepted;  // held open, never written to

  asio::awaitable<void> accept_one() { accepted.emplace(co_await acceptor.async_accept(asio::use_awaitable)); }
};

struct read_observation {
  std::optional<std::size_t> result;
  boost::system::error_code read_error;
  bool finished = false;
  std::chrono::steady_clock::duration took{};
};

// The operation under the limit: one read, recording how it ended before passing that on.
asio::awaitable<std::size_t> observed_read(tcp::socket& socket, read_observation& seen) {
  char byte = 0;
  try {
    co_return co_await socket.async_read_some(asio::buffer(&byte, 1), asio::use_awaitable);
  } catch (const boost::system::system_error& e) {
    seen.read_error = e.code();
    throw;
  }
}

asio::awaitable<void> ask_silent_server(tcp::endpoint server, read_observation& seen, duration limit) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(server, asio::use_awaitable);
  const std::string request = "GET /charge HTTP/1.1\r\nHost: processor\r\n\r\n";
  co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
  const auto started = std::chrono::steady_clock::now();
  seen.result = co_await with_time_limit(observed_read(socket, seen), limit);
  seen.took = std::chrono::steady_clock::now() - started;
  seen.finished = true;
}

}  // namespace

TEST_CASE("the time limit cancels a read from a server that never answers, at the deadline") {
  asio::io_context io;
  silent_server server(io);
  asio::co_spawn(io, server.accept_one(), asio::detached);
  read_observation seen;
  asio::co_spawn(io, ask_silent_server(server.acceptor.local_endpoint(), seen, 200ms), asio::detached);
  // run() returns only when no operation is left: a read merely abandoned would keep it running
  // until the 10 s guard.
  io.run_for(10s);
  CHECK(io.stopped());
  REQUIRE(seen.finished);
  CHECK_FALSE(seen.result.has_value());
  CHECK(seen.read_error == asio::error::operation_aborted);
  CHECK(seen.took >= 200ms);
  CHECK(seen.took < 5s);
}

TEST_CASE("an operation that finishes within the limit returns its result and cancels the timer") {
  asio::io_context io;
  silent_server server(io);
  std::optional<std::size_t> result;
  auto exchange = [&]() -> asio::awaitable<void> {
    co_await server.accept_one();
    co_await asio::async_write(*server.accepted, asio::buffer(std::string("HTTP/1.1 200 OK\r\n")), asio::use_awaitable);
  };
  auto client = [&]() -> asio::awaitable<void> {
    tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(server.acceptor.local_endpoint(), asio::use_awaitable);
    read_observation seen;
    result = co_await with_time_limit(observed_read(socket, seen), 30s);
  };
  asio::co_spawn(io, exchange(), asio::detached);
  asio::co_spawn(io, client(), asio::detached);
  const auto started = std::chrono::steady_clock::now();
  io.run_for(20s);
  CHECK(io.stopped());  // the 30 s timer was cancelled, not waited out
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  REQUIRE(result.has_value());
  CHECK(*result == 1);
}
