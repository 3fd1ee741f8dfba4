#include "tests/e2e_gateway/http_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace cqrs::tests {

namespace http = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Blocking reads and writes give up after `timeout` (SO_RCVTIMEO / SO_SNDTIMEO), so a gateway
// that hangs fails a test instead of hanging the suite.
void set_timeouts(tcp::socket& socket, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool readable_within(tcp::socket& socket, std::chrono::milliseconds wait) {
  pollfd fd{socket.native_handle(), POLLIN, 0};
  return ::poll(&fd, 1, static_cast<int>(wait.count())) > 0;
}

constexpr std::size_t large_body = 64 * 1024;

http::request<http::string_body> build(const http_call& call, const std::string& host, std::uint16_t port) {
  http::request<http::string_body> request;
  request.method_string(call.method);
  request.target(call.target);
  request.version(11);
  request.set(http::field::host, fmt::format("{}:{}", host, port));
  request.set(http::field::connection, "close");
  bool has_content_type = false;
  for (const auto& [name, value] : call.headers) {
    request.insert(name, value);
    has_content_type = has_content_type || lowercase(name) == "content-type";
  }
  if (call.body) {
    if (!has_content_type) request.set(http::field::content_type, "application/json");
    request.body() = *call.body;
  }
  if (call.declared_length) {
    request.content_length(*call.declared_length);
  } else if (call.body) {
    request.prepare_payload();
  }
  return request;
}

http_answer convert(http::response<http::string_body>& response) {
  http_answer answer;
  answer.status = static_cast<int>(response.result_int());
  for (const auto& field : response) answer.headers.emplace_back(lowercase(field.name_string()), std::string(field.value()));
  answer.body = std::move(response.body());
  return answer;
}

}  // namespace

std::optional<std::string> http_answer::header(std::string_view name) const {
  const auto wanted = lowercase(name);
  for (const auto& [key, value] : headers) {
    if (key == wanted) return value;
  }
  return std::nullopt;
}

boost::json::value http_answer::json() const { return boost::json::parse(body); }

bool http_answer::is_problem() const {
  const auto type = header("content-type").value_or("");
  return type.substr(0, type.find(';')) == "application/problem+json";
}

std::string describe(const http_answer& answer) {
  std::string text = fmt::format("HTTP {}", answer.status);
  for (const auto& [name, value] : answer.headers) text += fmt::format("\n{}: {}", name, value);
  text += "\n\n" + answer.body.substr(0, 2000);
  return text;
}

namespace {

// Whether the server answered within `wait`, its first bytes kept in `buffer`. Over TLS the socket
// turning readable says nothing (TLS 1.3 servers send session tickets after the handshake), so the
// answer itself is awaited: a read raced against a timer that cancels it.
bool answered_within(asio::ssl::stream<tcp::socket&>& stream, asio::io_context& io, boost::beast::flat_buffer& buffer,
                     std::chrono::milliseconds wait) {
  bool answered = false;
  asio::steady_timer timer(io, wait);
  stream.async_read_some(buffer.prepare(16 * 1024), [&](boost::system::error_code ec, std::size_t n) {
    buffer.commit(n);
    answered = n > 0 || ec != asio::error::operation_aborted;
    timer.cancel();
  });
  timer.async_wait([&](boost::system::error_code ec) {
    if (!ec) stream.next_layer().cancel();
  });
  io.restart();
  io.run();
  return answered;
}

bool answered_within(tcp::socket& socket, asio::io_context&, boost::beast::flat_buffer&, std::chrono::milliseconds wait) {
  return readable_within(socket, wait);
}

// A large body goes after its header: a server that refuses from the header alone (413 on
// Content-Length) answers before the body is sent, so the answer is read instead of being lost to
// a connection reset. `socket` is the TCP socket under `stream` (the same one for plain HTTP).
template <class Stream>
http_answer exchange(Stream& stream, tcp::socket& socket, asio::io_context& io, const http_call& call,
                     const std::string& host, std::uint16_t port) {
  auto request = build(call, host, port);
  http::request_serializer<http::string_body> serializer(request);
  boost::system::error_code ec;
  boost::beast::flat_buffer buffer;
  if (request.body().size() > large_body) {
    http::write_header(stream, serializer, ec);
    if (ec) throw std::runtime_error("writing the request header: " + ec.message());
    if (!answered_within(stream, io, buffer, std::chrono::milliseconds(500))) {
      http::write(stream, serializer, ec);  // a server that closes early makes this fail: read anyway
    }
  } else {
    http::write(stream, serializer, ec);
    if (ec) throw std::runtime_error(fmt::format("{} {}: writing: {}", call.method, call.target, ec.message()));
  }

  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buffer, parser, ec);
  if (ec) throw std::runtime_error(fmt::format("{} {}: reading the answer: {}", call.method, call.target, ec.message()));
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return convert(parser.get());
}

}  // namespace

http_client::http_client(std::string host, std::uint16_t port, std::string ca_file, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), ca_file_(std::move(ca_file)), timeout_(timeout) {}

http_answer http_client::send(const http_call& call) const {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address(host_), port_));
  set_timeouts(socket, timeout_);
  if (ca_file_.empty()) return exchange(socket, socket, io, call, host_, port_);

  // What curl --cacert does: TLS 1.3, the chain verified against the CA, the name against the host.
  asio::ssl::context context(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION);
  context.load_verify_file(ca_file_);
  context.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<tcp::socket&> stream(socket, context);
  stream.set_verify_callback(asio::ssl::host_name_verification(host_));
  stream.handshake(asio::ssl::stream_base::client);
  return exchange(stream, socket, io, call, host_, port_);
}

http_answer http_client::get(const std::string& target, http_headers headers) const {
  return send({"GET", target, std::move(headers), std::nullopt, std::nullopt});
}

http_answer http_client::post(const std::string& target, const std::string& body, http_headers headers) const {
  return send({"POST", target, std::move(headers), body, std::nullopt});
}

http_headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::string url_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace cqrs::tests
