#include "tools/payment_provider/webhook_client.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "core/security/webhook_signature.hpp"

namespace cqrs::tools::payment_provider {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

struct endpoint_parts {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
};

endpoint_parts split(const std::string& url) {
  const auto parsed = boost::urls::parse_uri(url).value();  // validated by the settings
  const bool tls = parsed.scheme() == "https";
  endpoint_parts parts{tls, parsed.host(), parsed.has_port() ? std::string(parsed.port()) : (tls ? "443" : "80"),
                       std::string(parsed.encoded_target())};
  if (parts.target.empty()) parts.target = "/";
  return parts;
}

http::request<http::string_body> signed_request(const webhook_target& target, const endpoint_parts& parts,
                                                const std::string& body) {
  http::request<http::string_body> request(http::verb::post, parts.target, 11);
  request.set(http::field::host, parts.host);
  request.set(http::field::content_type, "application/json");
  request.set(core::security::webhook_signature_header,
              core::security::sign_webhook(target.secret, core::security::unix_now(), body));
  request.body() = body;
  request.prepare_payload();
  return request;
}

// Sends the request on a connected stream (plain or TLS); the answer's status, or 0.
template <class Stream>
asio::awaitable<unsigned> exchange(Stream& stream, http::request<http::string_body>& request) {
  auto [write_error, written] = co_await http::async_write(stream, request, no_throw);
  if (write_error) co_return 0;
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  auto [read_error, read] = co_await http::async_read(stream, buffer, response, no_throw);
  co_return read_error ? 0u : response.result_int();
}

// What curl does with --cacert: TLS 1.2 or later, the chain verified against the CA file (else the
// system's store), the certificate's name against the host.
asio::ssl::context client_context(const webhook_target& target) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  if (target.ca_file.empty()) {
    context.set_default_verify_paths();
  } else {
    context.load_verify_file(target.ca_file);
  }
  context.set_verify_mode(asio::ssl::verify_peer);
  return context;
}

// One attempt: the HTTP status, or 0 when there was no answer.
asio::awaitable<unsigned> post_once(const webhook_target& target, const std::string& body) {
  const auto parts = split(target.url);
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] = co_await resolver.async_resolve(parts.host, parts.port, no_throw);
  if (resolve_error) co_return 0;
  beast::tcp_stream stream(executor);
  stream.expires_after(target.attempt_timeout);
  auto [connect_error, connected] = co_await stream.async_connect(endpoints, no_throw);
  if (connect_error) co_return 0;
  auto request = signed_request(target, parts, body);
  if (!parts.tls) co_return co_await exchange(stream, request);
  auto context = client_context(target);
  beast::ssl_stream<beast::tcp_stream&> secured(stream, context);
  secured.set_verify_callback(asio::ssl::host_name_verification(parts.host));
  SSL_set_tlsext_host_name(secured.native_handle(), parts.host.c_str());
  auto [handshake_error] = co_await secured.async_handshake(asio::ssl::stream_base::client, no_throw);
  if (handshake_error) co_return 0;
  co_return co_await exchange(secured, request);
}

}  // namespace

asio::awaitable<bool> deliver_webhook(const webhook_target& target, std::string body, const core::logger& log) {
  auto delay = target.first_retry;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int attempt = 1; attempt <= target.attempts; ++attempt) {
    const auto status = co_await post_once(target, body);
    if (status >= 200 && status < 300) co_return true;
    log.warn("webhook not accepted", {{"url", target.url}, {"status", status}, {"attempt", attempt}});
    if (attempt == target.attempts) break;
    timer.expires_after(delay);
    co_await timer.async_wait(no_throw);
    delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(30));
  }
  log.error("webhook given up", {{"url", target.url}, {"attempts", target.attempts}});
  co_return false;
}

}  // namespace cqrs::tools::payment_provider
