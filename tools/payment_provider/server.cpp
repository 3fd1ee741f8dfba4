#include "tools/payment_provider/server.hpp"

#include <csignal>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "core/security/webhook_signature.hpp"
#include "tools/payment_provider/api.hpp"
#include "tools/payment_provider/webhook_client.hpp"

namespace cqrs::tools::payment_provider {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t body_limit = 64 * 1024;
constexpr auto idle_timeout = std::chrono::seconds(60);
// A hang holds the connection at most this long, so a client that never closes cannot pin it forever.
constexpr auto hang_limit = std::chrono::hours(1);

using request_type = http::request<http::string_body>;
using response_type = http::response<http::string_body>;

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(no_throw);
}

api_request to_api(const request_type& request) {
  api_request out{std::string(request.method_string()), std::string(request.target()), std::nullopt, request.body()};
  if (const auto key = request.find("Idempotency-Key"); key != request.end()) out.idempotency_key = std::string(key->value());
  return out;
}

response_type to_http(const api_response& answer, unsigned version, bool keep_alive) {
  response_type response(static_cast<http::status>(answer.status), version);
  response.set(http::field::server, "cqrs-payment-provider");
  if (!answer.body.empty()) response.set(http::field::content_type, answer.content_type);
  if (answer.replayed) response.set("Idempotent-Replayed", "true");
  response.body() = answer.body;
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

// TLS 1.3 only, with the configured chain and key (the gateway's policy, docs/security.md).
std::unique_ptr<asio::ssl::context> server_tls(const provider_config& config) {
  if (config.tls_cert_file.empty()) return nullptr;
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_3_VERSION);
  SSL_CTX_set_options(context->native_handle(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  try {
    context->use_certificate_chain_file(config.tls_cert_file);
  } catch (const std::exception& e) {
    throw core::config_error("CQRS_PAYMENT_PROVIDER_TLS_CERT_FILE", fmt::format("'{}': {}", config.tls_cert_file, e.what()));
  }
  try {
    context->use_private_key_file(config.tls_key_file, asio::ssl::context::pem);
  } catch (const std::exception& e) {
    throw core::config_error("CQRS_PAYMENT_PROVIDER_TLS_KEY_FILE", fmt::format("'{}': {}", config.tls_key_file, e.what()));
  }
  return context;
}

api_response injected_error() {
  return {500,
          R"({"type":"about:blank","title":"provider_error","status":500,"code":"provider_error",)"
          R"("detail":"injected fault: nothing was done"})",
          "application/problem+json"};
}

}  // namespace

struct provider_server::state {
  state(const provider_config& c, const core::logger& l)
      : config(c), log(l), faults(c.seed), api(books, faults), tls(server_tls(c)), acceptor(io),
        signals(io, SIGTERM, SIGINT) {}

  asio::awaitable<void> accept();
  asio::awaitable<void> session_plain(tcp::socket socket);
  asio::awaitable<void> session_tls(tcp::socket socket);
  template <class Stream>
  asio::awaitable<void> session(Stream& stream);
  template <class Stream>
  asio::awaitable<bool> serve_one(Stream& stream, request_type request);
  template <class Stream>
  asio::awaitable<void> hold(Stream& stream);
  template <class Stream>
  asio::awaitable<void> discard_rest(Stream& stream);
  asio::awaitable<void> settle(std::string id);
  void schedule(const api_effects& effects);

  provider_config config;
  core::logger log;
  ledger books;
  fault_injector faults;
  provider_api api;
  std::unique_ptr<asio::ssl::context> tls;  // null: plain HTTP
  asio::io_context io{1};
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::uint64_t next_event = 1;
};

asio::awaitable<void> provider_server::state::accept() {
  for (;;) {
    auto [error, socket] = co_await acceptor.async_accept(no_throw);
    if (error == asio::error::operation_aborted) co_return;
    if (error) continue;
    if (tls) {
      asio::co_spawn(io, session_tls(std::move(socket)), asio::detached);
    } else {
      asio::co_spawn(io, session_plain(std::move(socket)), asio::detached);
    }
  }
}

asio::awaitable<void> provider_server::state::session_plain(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  co_await session(stream);
}

// The handshake within the idle timeout; a client without TLS 1.3 fails here.
asio::awaitable<void> provider_server::state::session_tls(tcp::socket socket) {
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
  beast::get_lowest_layer(stream).expires_after(idle_timeout);
  auto [error] = co_await stream.async_handshake(asio::ssl::stream_base::server, no_throw);
  if (error) co_return;
  co_await session(stream);
}

template <class Stream>
asio::awaitable<void> provider_server::state::session(Stream& stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    beast::get_lowest_layer(stream).expires_after(idle_timeout);
    auto [error, read] = co_await http::async_read(stream, buffer, parser, no_throw);
    if (error == http::error::body_limit || error == http::error::bad_target || error == http::error::bad_method ||
        error == http::error::bad_field || error == http::error::bad_value) {
      const auto status = error == http::error::body_limit ? 413u : 400u;
      auto response = to_http({status, fmt::format(R"({{"status":{},"code":"invalid_request","field":"request",)"
                                                   R"("detail":"{}"}})", status, error.message()),
                               "application/problem+json"}, 11, false);
      co_await http::async_write(stream, response, no_throw);
      co_await discard_rest(stream);
      co_return;
    }
    if (error) co_return;
    beast::get_lowest_layer(stream).expires_never();
    if (!co_await serve_one(stream, parser.release())) co_return;
  }
}

// Answers one request, faults included; false when the connection is to be closed.
template <class Stream>
asio::awaitable<bool> provider_server::state::serve_one(Stream& stream, request_type request) {
  const auto call = to_api(request);
  fault drawn = fault::none;
  if (is_payment_call(call)) {
    if (faults.settings().latency.count() > 0) co_await sleep_for(faults.settings().latency);
    drawn = faults.draw();
  }
  if (drawn != fault::none) log.info("fault", {{"kind", to_string(drawn)}, {"target", call.target}});
  if (drawn == fault::hang) {
    co_await hold(stream);
    co_return false;
  }
  api_effects effects;
  const auto answer = drawn == fault::error ? injected_error() : api.handle(call, effects);
  schedule(effects);
  if (drawn == fault::lose_answer) {
    // Below TLS too: no close_notify, the connection just ends.
    auto& socket = beast::get_lowest_layer(stream).socket();
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    co_return false;
  }
  if (drawn == fault::timeout) co_await sleep_for(config.timeout_delay);
  auto response = to_http(answer, request.version(), request.keep_alive());
  auto [error, written] = co_await http::async_write(stream, response, no_throw);
  co_return !error && request.keep_alive();
}

// Never answers: reads (and drops) whatever arrives until the client gives up and closes.
template <class Stream>
asio::awaitable<void> provider_server::state::hold(Stream& stream) {
  beast::get_lowest_layer(stream).expires_after(hang_limit);
  std::array<char, 4096> sink{};
  for (;;) {
    auto [error, read] = co_await stream.async_read_some(asio::buffer(sink), no_throw);
    if (error) co_return;
  }
}

// After a refusal of a request still being sent (a body over the limit): reads and drops what
// the client still sends, for a bounded time and amount, so that closing does not reset the
// connection under the answer before the client has read it (over TLS above all).
template <class Stream>
asio::awaitable<void> provider_server::state::discard_rest(Stream& stream) {
  constexpr std::size_t most = 4 * body_limit;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  std::array<char, 4096> sink{};
  for (std::size_t total = 0; total < most;) {
    auto [error, read] = co_await stream.async_read_some(asio::buffer(sink), no_throw);
    if (error) co_return;
    total += read;
  }
}

void provider_server::state::schedule(const api_effects& effects) {
  for (const auto& id : effects.to_settle) asio::co_spawn(io, settle(id), asio::detached);
}

asio::awaitable<void> provider_server::state::settle(std::string id) {
  co_await sleep_for(config.settle_delay);
  const auto* settled = books.settle(id);
  if (settled == nullptr) co_return;  // cleared meanwhile
  log.info("charge settled", {{"charge", id}, {"status", to_string(settled->status)}});
  if (config.webhook_url.empty()) co_return;
  const boost::json::object event{{"id", fmt::format("evt_{:06}", next_event++)},
                                  {"type", "charge.settled"},
                                  {"created", core::security::unix_now()},
                                  {"data", to_json(*settled)}};
  const webhook_target target{config.webhook_url, config.webhook_secret, config.webhook_ca_file};
  co_await deliver_webhook(target, boost::json::serialize(event), log);
}

provider_server::provider_server(const provider_config& config, const core::logger& log)
    : state_(std::make_unique<state>(config, log)) {
  const tcp::endpoint endpoint(asio::ip::make_address(config.host), config.port);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
}

provider_server::~provider_server() = default;

std::uint16_t provider_server::port() const { return state_->acceptor.local_endpoint().port(); }

bool provider_server::tls() const { return state_->tls != nullptr; }

void provider_server::run() {
  auto& s = *state_;
  s.signals.async_wait([&s](const beast::error_code&, int signal) {
    s.log.info("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.io.stop();
  });
  asio::co_spawn(s.io, s.accept(), asio::detached);
  s.io.run();
}

}  // namespace cqrs::tools::payment_provider
