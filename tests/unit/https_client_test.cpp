// core/https_client.hpp against real local TCP servers: a limit cancels the exchange itself (the
// server sees its connection closed by the client), a connection closed without an answer and a
// refused connection are told apart, and a URL splits into what the client needs.

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "core/https_client.hpp"

using namespace cqrs::core;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;
using outcome = http_reply::outcome;

namespace {

// Accepts one connection on a thread of its own and does `behaviour` with it.
class one_connection_server {
 public:
  template <class Behaviour>
  explicit one_connection_server(Behaviour behaviour)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        thread_([this, behaviour] {
          tcp::socket socket(io_);
          acceptor_.accept(socket);
          behaviour(socket);
        }) {}
  ~one_connection_server() { thread_.join(); }

  std::string url(const char* scheme = "http") const {
    return fmt::format("{}://127.0.0.1:{}", scheme, acceptor_.local_endpoint().port());
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// Reads until the client closes; true when it did (the read ended with end of file or a reset).
bool reads_until_closed(tcp::socket& socket) {
  std::array<char, 4096> sink{};
  boost::system::error_code error;
  while (!error) socket.read_some(asio::buffer(sink), error);
  return error == asio::error::eof || error == asio::error::connection_reset;
}

http_reply get(const std::string& url, std::chrono::milliseconds limit) {
  const https_client client({});
  return client.send(parse_http_endpoint(url), {"GET", "/v1/charges", {}, {}}, std::chrono::steady_clock::now() + limit);
}

}  // namespace

TEST_CASE("a server that never answers is cut at the deadline: the client closes the connection") {
  bool closed_by_client = false;
  http_reply reply;
  {
    one_connection_server server([&](tcp::socket& socket) { closed_by_client = reads_until_closed(socket); });
    reply = get(server.url(), 200ms);
  }
  CHECK(reply.result == outcome::timed_out);
  CHECK(closed_by_client);
}

TEST_CASE("a connection closed after the request is closed_without_answer, an answer is answered") {
  {
    one_connection_server server([](tcp::socket& socket) {
      std::array<char, 1> first{};
      asio::read(socket, asio::buffer(first));
      socket.close();
    });
    CHECK(get(server.url(), 5s).result == outcome::closed_without_answer);
  }
  {
    one_connection_server server([](tcp::socket& socket) {
      std::array<char, 1> first{};
      asio::read(socket, asio::buffer(first));
      asio::write(socket, asio::buffer(std::string_view(
                              "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nIdempotent-Replayed: true\r\n\r\n{}")));
      reads_until_closed(socket);
    });
    const auto reply = get(server.url(), 5s);
    CHECK(reply.result == outcome::answered);
    CHECK(reply.status == 201);
    CHECK(reply.body == "{}");
    CHECK(reply.header("idempotent-replayed") == "true");
  }
}

TEST_CASE("TLS that cannot be negotiated is tls_failed, a port nobody listens on connect_failed") {
  {
    one_connection_server server([](tcp::socket& socket) {
      asio::write(socket, asio::buffer(std::string_view("HTTP/1.1 400 Bad Request\r\n\r\n")));
      socket.close();
    });
    CHECK(get(server.url("https"), 5s).result == outcome::tls_failed);
  }
  std::uint16_t unused = 0;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    unused = probe.local_endpoint().port();
  }
  CHECK(get(fmt::format("http://127.0.0.1:{}", unused), 5s).result == outcome::connect_failed);
}

TEST_CASE("a URL splits into scheme, host, port and base path") {
  const auto secured = parse_http_endpoint("https://provider.test/api/");
  CHECK(secured.tls);
  CHECK(secured.host == "provider.test");
  CHECK(secured.port == "443");
  CHECK(secured.base_path == "/api");
  const auto plain = parse_http_endpoint("http://127.0.0.1:8090");
  CHECK_FALSE(plain.tls);
  CHECK(plain.port == "8090");
  CHECK(plain.base_path.empty());
  CHECK_THROWS_AS(parse_http_endpoint("ftp://x"), std::invalid_argument);
  CHECK_THROWS_AS(parse_http_endpoint("not a url"), std::invalid_argument);
}

TEST_CASE("an unreadable CA file stops the client's construction, naming the file") {
  CHECK_THROWS_WITH_AS(https_client({.ca_file = "/nonexistent/ca.pem"}), doctest::Contains("/nonexistent/ca.pem"),
                       std::runtime_error);
}
