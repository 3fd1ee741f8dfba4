#include "tools/payment_provider/webhook_client.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
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
  std::string host;
  std::string port;
  std::string target;
};

endpoint_parts split(const std::string& url) {
  const auto parsed = boost::urls::parse_uri(url).value();  // validated by the settings
  endpoint_parts parts{parsed.host(), parsed.has_port() ? std::string(parsed.port()) : "80",
                       std::string(parsed.encoded_target())};
  if (parts.target.empty()) parts.target = "/";
  return parts;
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
  http::request<http::string_body> request(http::verb::post, parts.target, 11);
  request.set(http::field::host, parts.host);
  request.set(http::field::content_type, "application/json");
  request.set(core::security::webhook_signature_header,
              core::security::sign_webhook(target.secret, core::security::unix_now(), body));
  request.body() = body;
  request.prepare_payload();
  auto [write_error, written] = co_await http::async_write(stream, request, no_throw);
  if (write_error) co_return 0;
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  auto [read_error, read] = co_await http::async_read(stream, buffer, response, no_throw);
  if (read_error) co_return 0;
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return response.result_int();
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
