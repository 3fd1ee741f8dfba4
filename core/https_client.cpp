#include "core/https_client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <stdexcept>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

namespace cqrs::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using outcome = http_reply::outcome;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

bool same_name(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
    return std::tolower(x) == std::tolower(y);
  });
}

http_reply failure(outcome result, std::string_view phase, const beast::error_code& error) {
  http_reply reply;
  reply.result = result;
  reply.error = fmt::format("{}: {}", phase, error.message());
  return reply;
}

// A limit that passed shows as Beast's timeout on the stream that expired; under TLS the layer
// above may report it otherwise, so the clock decides too.
bool timed_out(const beast::error_code& error, clock_type::time_point limit) {
  return error == beast::error::timeout || clock_type::now() >= limit;
}

// The endpoint of a host given as an IP address; nullopt for a name.
std::optional<tcp::endpoint> address_endpoint(const http_endpoint& to) {
  boost::system::error_code error;
  const auto address = asio::ip::make_address(to.host, error);
  if (error) return std::nullopt;
  unsigned port = 0;
  const auto [end, parse_error] = std::from_chars(to.port.data(), to.port.data() + to.port.size(), port);
  if (parse_error != std::errc{} || end != to.port.data() + to.port.size() || port > 65535) return std::nullopt;
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

http::request<http::string_body> build(const http_endpoint& to, const http_call& call) {
  std::string target = to.base_path + call.target;
  if (target.empty()) target = "/";
  http::request<http::string_body> request(http::string_to_verb(call.method), target, 11);
  request.set(http::field::host, to.host);
  for (const auto& [name, value] : call.headers) request.set(name, value);
  if (!call.body.empty()) {
    if (request.find(http::field::content_type) == request.end()) request.set(http::field::content_type, "application/json");
    request.body() = call.body;
  }
  request.keep_alive(false);
  request.prepare_payload();
  return request;
}

// Writes the request and reads the answer on a connected stream (plain or TLS) whose lowest
// layer expires at the deadline.
template <class Stream>
asio::awaitable<http_reply> exchange(Stream& stream, beast::tcp_stream& lowest, const http::request<http::string_body>& request,
                                     clock_type::time_point deadline, std::size_t body_limit) {
  lowest.expires_at(deadline);
  auto [write_error, written] = co_await http::async_write(stream, request, no_throw);
  if (write_error) {
    co_return failure(timed_out(write_error, deadline) ? outcome::timed_out : outcome::closed_without_answer, "write",
                      write_error);
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  auto [read_error, read] = co_await http::async_read(stream, buffer, parser, no_throw);
  if (read_error) {
    co_return failure(timed_out(read_error, deadline) ? outcome::timed_out : outcome::closed_without_answer, "read",
                      read_error);
  }
  auto response = parser.release();
  http_reply reply;
  reply.result = outcome::answered;
  reply.status = response.result_int();
  for (const auto& field : response) reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  reply.body = std::move(response.body());
  co_return reply;
}

}  // namespace

std::optional<std::string> http_reply::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (same_name(key, name)) return value;
  }
  return std::nullopt;
}

std::string_view to_string(http_reply::outcome result) {
  switch (result) {
    case outcome::answered: return "answered";
    case outcome::timed_out: return "timed_out";
    case outcome::closed_without_answer: return "closed_without_answer";
    case outcome::connect_failed: return "connect_failed";
    case outcome::tls_failed: return "tls_failed";
  }
  return "unknown";
}

http_endpoint parse_http_endpoint(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty()) {
    throw std::invalid_argument(fmt::format("'{}' is not an http:// or https:// URL with a host", url));
  }
  http_endpoint to;
  to.tls = parsed->scheme() == "https";
  to.host = parsed->host();
  to.port = parsed->has_port() ? std::string(parsed->port()) : (to.tls ? "443" : "80");
  to.base_path = std::string(parsed->encoded_path());
  while (!to.base_path.empty() && to.base_path.back() == '/') to.base_path.pop_back();
  return to;
}

struct https_client::state {
  explicit state(https_client_config c) : config(std::move(c)) {
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    try {
      if (config.ca_file.empty()) {
        tls.set_default_verify_paths();
      } else {
        tls.load_verify_file(config.ca_file);
      }
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("cannot read the CA file '{}': {}", config.ca_file, e.what()));
    }
    tls.set_verify_mode(asio::ssl::verify_peer);
  }

  asio::awaitable<http_reply> run(const http_endpoint& to, const http_call& call, clock_type::time_point deadline);

  https_client_config config;
  // Only read once built (OpenSSL allows concurrent SSL_new on one SSL_CTX); Asio's stream wants it
  // non-const.
  mutable asio::ssl::context tls{asio::ssl::context::tls_client};
};

asio::awaitable<http_reply> https_client::state::run(const http_endpoint& to, const http_call& call,
                                                     clock_type::time_point deadline) {
  const auto executor = co_await asio::this_coro::executor;
  const auto connect_limit = std::min(deadline, clock_type::now() + config.connect_timeout);
  std::vector<tcp::endpoint> endpoints;
  if (auto literal = address_endpoint(to)) {
    endpoints.push_back(*literal);  // no resolver (and no thread of its) for an address
  } else {
    tcp::resolver resolver(executor);
    auto [resolve_error, found] = co_await resolver.async_resolve(to.host, to.port, no_throw);
    if (resolve_error) co_return failure(outcome::connect_failed, "resolve", resolve_error);
    for (const auto& entry : found) endpoints.push_back(entry.endpoint());
  }
  beast::tcp_stream stream(executor);
  stream.expires_at(connect_limit);
  auto [connect_error, connected] = co_await stream.async_connect(endpoints, no_throw);
  if (connect_error) {
    co_return failure(timed_out(connect_error, connect_limit) ? outcome::timed_out : outcome::connect_failed, "connect",
                      connect_error);
  }
  const auto request = build(to, call);
  if (!to.tls) co_return co_await exchange(stream, stream, request, deadline, config.body_limit);
  beast::ssl_stream<beast::tcp_stream&> secured(stream, tls);
  secured.set_verify_callback(asio::ssl::host_name_verification(to.host));
  SSL_set_tlsext_host_name(secured.native_handle(), to.host.c_str());
  auto [handshake_error] = co_await secured.async_handshake(asio::ssl::stream_base::client, no_throw);
  if (handshake_error) {
    co_return failure(timed_out(handshake_error, connect_limit) ? outcome::timed_out : outcome::tls_failed, "TLS handshake",
                      handshake_error);
  }
  co_return co_await exchange(secured, stream, request, deadline, config.body_limit);
}

https_client::https_client(https_client_config config) : state_(std::make_unique<state>(std::move(config))) {}

https_client::~https_client() = default;

http_reply https_client::send(const http_endpoint& to, const http_call& call, clock_type::time_point deadline) const {
  asio::io_context io{1};
  http_reply reply;
  std::exception_ptr failed;
  asio::co_spawn(io, state_->run(to, call, deadline), [&](std::exception_ptr e, http_reply r) {
    failed = e;
    reply = std::move(r);
  });
  io.run();
  if (failed) std::rethrow_exception(failed);
  return reply;
}

asio::awaitable<http_reply> https_client::async_send(const http_endpoint& to, http_call call,
                                                     std::chrono::milliseconds timeout) const {
  co_return co_await state_->run(to, call, clock_type::now() + timeout);
}

}  // namespace cqrs::core
