#include "core/metrics_endpoint.hpp"

#include <chrono>
#include <exception>
#include <utility>
#include <string_view>
#include <system_error>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "core/tcp_listen.hpp"

namespace cqrs::core {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto use_op = net::as_tuple(net::use_awaitable);
constexpr std::size_t max_head_bytes = 8 * 1024;
constexpr std::chrono::seconds request_timeout{5};

struct request_line {
  std::string_view method;
  std::string_view path;  // without its query
};

request_line parse_request_line(std::string_view head) {
  const auto line = head.substr(0, head.find("\r\n"));
  const auto first = line.find(' ');
  if (first == std::string_view::npos) return {};
  const auto second = line.find(' ', first + 1);
  auto target = line.substr(first + 1, second == std::string_view::npos ? std::string_view::npos : second - first - 1);
  return {line.substr(0, first), target.substr(0, target.find('?'))};
}

std::string response(int status, std::string_view reason, std::string_view content_type, const std::string& body,
                     bool head) {
  auto out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                         status, reason, content_type, body.size());
  if (!head) out += body;
  return out;
}

std::string answer(const metrics_text& render, std::string_view head) {
  const auto request = parse_request_line(head);
  const bool is_head = request.method == "HEAD";
  if (request.method != "GET" && !is_head) return response(405, "Method Not Allowed", "text/plain", "GET only\n", false);
  if (request.path != "/metrics") return response(404, "Not Found", "text/plain", "try /metrics\n", is_head);
  return response(200, "OK", "text/plain; version=0.0.4", render(), is_head);
}

// One request, one answer, then the connection closes; a client that does not send its request
// head within the timeout is closed without one.
net::awaitable<void> serve_connection(const metrics_text& render, tcp::socket socket) {
  net::steady_timer timeout(socket.get_executor(), request_timeout);
  timeout.async_wait([&socket](const error_code& ec) {
    if (!ec) {
      error_code ignored;
      socket.close(ignored);
    }
  });
  std::string head;
  auto [read_ec, bytes] =
      co_await net::async_read_until(socket, net::dynamic_buffer(head, max_head_bytes), "\r\n\r\n", use_op);
  if (!read_ec) {
    const auto bytes_out = answer(render, std::string_view(head).substr(0, bytes));
    auto [write_ec, written] = co_await net::async_write(socket, net::buffer(bytes_out), use_op);
    (void)write_ec;
    (void)written;
  }
  timeout.cancel();
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

net::awaitable<void> accept_loop(const metrics_text& render, tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_op);
    if (!acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors, most likely: accepting again at once would spin.
      net::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_op);
      continue;
    }
    net::co_spawn(acceptor.get_executor(), serve_connection(render, std::move(socket)), net::detached);
  }
}

tcp::endpoint endpoint_for(const std::string& host, std::uint16_t port) {
  error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec) throw std::system_error(static_cast<std::error_code>(ec), "metrics endpoint: not an IP address: " + host);
  return {address, port};
}

}  // namespace

struct metrics_endpoint::impl {
  impl(const metrics_registry& r, metrics_text more, const std::string& host, std::uint16_t port)
      : registry(r), more_text(std::move(more)), acceptor(io) {
    listen_on(acceptor, endpoint_for(host, port));
    bound_port = acceptor.local_endpoint().port();
    net::co_spawn(io, accept_loop(render, acceptor), net::detached);
    thread = std::jthread([this] { io.run(); });
  }

  ~impl() {
    io.stop();
    thread.join();
  }

  const metrics_registry& registry;
  metrics_text more_text;  // series rendered elsewhere, after the registry's (may be empty)
  metrics_text render = [this] { return more_text ? registry.render() + more_text() : registry.render(); };
  net::io_context io{1};
  tcp::acceptor acceptor;
  std::uint16_t bound_port = 0;
  std::jthread thread;  // last: started once everything it touches exists
};

metrics_endpoint::metrics_endpoint(const metrics_registry& registry, const std::string& host, std::uint16_t port,
                                   metrics_text more)
    : impl_(std::make_unique<impl>(registry, std::move(more), host, port)) {}

metrics_endpoint::~metrics_endpoint() = default;

std::uint16_t metrics_endpoint::port() const { return impl_->bound_port; }

std::vector<setting_spec> metrics_endpoint_specs() {
  return {{"CQRS_METRICS_PORT", "",
           "serve Prometheus metrics over plain HTTP at http://CQRS_METRICS_HOST:PORT/metrics (1-65535; unset: not served)"},
          {"CQRS_METRICS_HOST", "127.0.0.1", "the address the metrics endpoint listens on (an IP address)"}};
}

std::unique_ptr<metrics_endpoint> serve_metrics(const settings_source& source, const metrics_registry& registry,
                                                const logger& log, metrics_text more) {
  if (!source.raw("CQRS_METRICS_PORT")) return nullptr;
  const auto port = static_cast<std::uint16_t>(source.integer("CQRS_METRICS_PORT", 0, 1, 65535));
  const auto host = source.text("CQRS_METRICS_HOST", "127.0.0.1");
  error_code ec;
  (void)net::ip::make_address(host, ec);
  if (ec) throw source.named(config_error("CQRS_METRICS_HOST", fmt::format("expected an IP address, got '{}'", host)));
  auto endpoint = std::make_unique<metrics_endpoint>(registry, host, port, std::move(more));
  log.info("metrics endpoint listening", {{"url", fmt::format("http://{}:{}/metrics", host, endpoint->port())}});
  return endpoint;
}

}  // namespace cqrs::core
