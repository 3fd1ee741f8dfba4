#pragma once

// The benchmarks' HTTP client of the gateway: HTTP/1.1 keep-alive connections, HTTPS when the URL
// says so (TLS 1.3, the certificate verified against a CA file and the host, as a user's client
// does), each owned by one C++20 coroutine on one I/O thread (Boost.Beast). Used by
// cqrs-visibility-bench and cqrs-orders-bench; Beast and Asio are included only by those mains.

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

namespace cqrs::tools::benchmarks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

inline constexpr auto exchange_timeout = std::chrono::seconds(10);

struct gateway_address {
  std::string host;
  std::string port;
  // HTTPS: TLS 1.3, the gateway's certificate verified against the CA file and the host, as a
  // user's client does. Null: plain HTTP.
  std::shared_ptr<asio::ssl::context> tls;
};

inline std::shared_ptr<asio::ssl::context> client_tls(const std::string& ca_file) {
  if (ca_file.empty()) throw std::invalid_argument("an https:// --url needs --ca-file (or CQRS_TLS_CA_FILE)");
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_3_VERSION);
  context->load_verify_file(ca_file);
  context->set_verify_mode(asio::ssl::verify_peer);
  return context;
}

// http://host:port or https://host:port (no path).
inline gateway_address parse_http_url(const std::string& url, const std::string& ca_file) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) throw std::invalid_argument("--url must start with http(s)://: " + url);
  auto rest = url.substr(url.find("://") + 3);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || rest.find('/') != std::string::npos)
    throw std::invalid_argument("--url must be http(s)://host:port: " + url);
  return {rest.substr(0, colon), rest.substr(colon + 1), https ? client_tls(ca_file) : nullptr};
}

using response = http::response<http::string_body>;

// One keep-alive connection, one request at a time, owned by one coroutine.
class http_connection {
 public:
  explicit http_connection(asio::io_context& io) : stream_(io) {}

  asio::awaitable<void> connect(const gateway_address& address) {
    tcp::resolver resolver(stream_.get_executor());
    const auto endpoints = co_await resolver.async_resolve(address.host, address.port, asio::use_awaitable);
    stream_.expires_after(exchange_timeout);
    co_await stream_.async_connect(endpoints, asio::use_awaitable);
    stream_.socket().set_option(tcp::no_delay(true));
    if (!address.tls) co_return;
    tls_.emplace(stream_, *address.tls);
    tls_->set_verify_callback(asio::ssl::host_name_verification(address.host));
    stream_.expires_after(exchange_timeout);
    co_await tls_->async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  }

  asio::awaitable<response> exchange(http::request<http::string_body>& request) {
    stream_.expires_after(exchange_timeout);
    response answer;
    if (tls_) {
      co_await http::async_write(*tls_, request, asio::use_awaitable);
      co_await http::async_read(*tls_, buffer_, answer, asio::use_awaitable);
    } else {
      co_await http::async_write(stream_, request, asio::use_awaitable);
      co_await http::async_read(stream_, buffer_, answer, asio::use_awaitable);
    }
    co_return answer;
  }

 private:
  beast::tcp_stream stream_;
  std::optional<beast::ssl_stream<beast::tcp_stream&>> tls_;  // over stream_, for HTTPS
  beast::flat_buffer buffer_;
};

inline http::request<http::string_body> json_post(const gateway_address& address, const std::string& target,
                                           const std::string& token, std::string body) {
  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, address.host + ":" + address.port);
  request.set(http::field::authorization, "Bearer " + token);
  request.set(http::field::content_type, "application/json");
  request.keep_alive(true);
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

inline bool is_2xx(const response& answer) { return answer.result_int() / 100 == 2; }

inline http::request<http::string_body> plain_get(const gateway_address& address, const std::string& target) {
  http::request<http::string_body> request{http::verb::get, target, 11};
  request.set(http::field::host, address.host + ":" + address.port);
  request.keep_alive(true);
  return request;
}

inline std::string created_id(const response& answer) {
  return std::string(boost::json::parse(answer.body()).as_object().at("id").as_string());
}

// A coroutine's parameters are copied into its frame (a lambda's captures would not be).
template <typename Make>
asio::awaitable<void> connect_and_run(http_connection& connection, gateway_address address, Make make) {
  co_await connection.connect(address);
  co_await make(connection);
}

// Runs `workers` coroutines made by `make(connection)` on one I/O thread, each on its own
// connection; the first failure stops everything and is rethrown.
template <typename Make>
void run_connections(const gateway_address& address, int workers, Make make) {
  asio::io_context io;
  std::exception_ptr failure;
  std::vector<std::unique_ptr<http_connection>> connections;
  for (int i = 0; i < workers; ++i) {
    connections.push_back(std::make_unique<http_connection>(io));
    asio::co_spawn(io, connect_and_run(*connections.back(), address, make), [&](std::exception_ptr e) {
      if (e && !failure) {
        failure = e;
        io.stop();
      }
    });
  }
  io.run();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace cqrs::tools::benchmarks
