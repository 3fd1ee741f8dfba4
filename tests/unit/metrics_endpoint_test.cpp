// core::metrics_endpoint over real loopback sockets: GET /metrics answers the registry's text as
// it is at the time of the request; anything else is refused; the settings decide whether it runs.

#include <doctest/doctest.h>

#include <map>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/metrics_endpoint.hpp"

namespace cqrs::core {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Sends `request` whole and reads until the server closes (it always does, after one answer).
std::string exchange(std::uint16_t port, const std::string& request) {
  net::io_context io;
  tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), port});
  net::write(socket, net::buffer(request));
  std::string out;
  boost::system::error_code ec;
  net::read(socket, net::dynamic_buffer(out), ec);
  return out;
}

settings_source settings(std::map<std::string, std::string> env) { return settings_source(std::move(env), {}); }

TEST_CASE("metrics_endpoint answers GET /metrics with the registry's current text, then closes") {
  metrics_registry registry;
  auto& relayed = registry.make_counter("cqrs_test_events_total", "Events seen by the test");
  const metrics_endpoint endpoint(registry, "127.0.0.1", 0);
  REQUIRE(endpoint.port() != 0);
  relayed.increment(3);
  const auto answer = exchange(endpoint.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(answer.find("Content-Type: text/plain; version=0.0.4\r\n") != std::string::npos);
  CHECK(answer.find("Connection: close\r\n") != std::string::npos);
  CHECK(answer.find("\ncqrs_test_events_total 3\n") != std::string::npos);
  relayed.increment();
  CHECK(exchange(endpoint.port(), "GET /metrics?x=1 HTTP/1.0\r\n\r\n").find("\ncqrs_test_events_total 4\n") !=
        std::string::npos);
}

TEST_CASE("metrics_endpoint answers HEAD without a body, another path 404 and another method 405") {
  metrics_registry registry;
  registry.make_gauge("cqrs_test_gauge", "A gauge").set(1);
  const metrics_endpoint endpoint(registry, "127.0.0.1", 0);
  const auto head = exchange(endpoint.port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("cqrs_test_gauge") == std::string::npos);
  CHECK(exchange(endpoint.port(), "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0) == 0);
  CHECK(exchange(endpoint.port(), "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").rfind("HTTP/1.1 405 ", 0) == 0);
}

TEST_CASE("metrics_endpoint appends the series rendered elsewhere, asked afresh for each request") {
  metrics_registry registry;
  registry.make_gauge("cqrs_test_gauge", "A gauge").set(1);
  metrics_registry client;  // a client's own registry, as the card processor's client keeps
  auto& calls = client.make_counter("cqrs_test_client_calls_total", "Calls of the client");
  const metrics_endpoint endpoint(registry, "127.0.0.1", 0, [&client] { return client.render(); });
  calls.increment(2);
  const auto answer = exchange(endpoint.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(answer.find("\ncqrs_test_gauge 1\n") != std::string::npos);
  CHECK(answer.find("\ncqrs_test_client_calls_total 2\n") != std::string::npos);
  CHECK(answer.find("cqrs_test_gauge") < answer.find("cqrs_test_client_calls_total"));
  calls.increment();
  CHECK(exchange(endpoint.port(), "GET /metrics HTTP/1.1\r\n\r\n").find("\ncqrs_test_client_calls_total 3\n") !=
        std::string::npos);
}

TEST_CASE("metrics_endpoint refuses a port that is taken") {
  metrics_registry registry;
  const metrics_endpoint first(registry, "127.0.0.1", 0);
  CHECK_THROWS_AS(metrics_endpoint(registry, "127.0.0.1", first.port()), std::system_error);
}

TEST_CASE("serve_metrics serves only when CQRS_METRICS_PORT is set, and names a bad setting") {
  metrics_registry registry;
  const logger log("metrics-endpoint-test", log_level::error);
  CHECK(serve_metrics(settings({}), registry, log) == nullptr);
  CHECK_THROWS_AS(serve_metrics(settings({{"CQRS_METRICS_PORT", "70000"}}), registry, log), config_error);
  CHECK_THROWS_AS(serve_metrics(settings({{"CQRS_METRICS_PORT", "9"}, {"CQRS_METRICS_HOST", "localhost"}}), registry, log),
                  config_error);
  const metrics_endpoint probe(registry, "127.0.0.1", 0);  // a port free a moment ago
  const auto port = probe.port();
  CHECK_THROWS_AS(serve_metrics(settings({{"CQRS_METRICS_PORT", std::to_string(port)}}), registry, log),
                  std::system_error);
}

}  // namespace
}  // namespace cqrs::core
