#include "tests/e2e_gateway/raw_http.hpp"

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

namespace cqrs::tests {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

// The one place bytes cross the wire: TLS over the socket when the stack's gateway serves HTTPS
// (a CA file to verify it with), plain TCP otherwise. Reads and writes are blocking; poll() on the
// socket says when the server sent something, and TLS records already decrypted are read first.
struct raw_connection::transport {
  asio::io_context io;
  tcp::socket socket{io};
  std::unique_ptr<asio::ssl::context> context;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;

  template <typename Buffers>
  std::size_t write(const Buffers& buffers, boost::system::error_code& ec) {
    return tls ? asio::write(*tls, buffers, ec) : asio::write(socket, buffers, ec);
  }
  template <typename Buffers>
  std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    return tls ? tls->read_some(buffers, ec) : socket.read_some(buffers, ec);
  }
  // Bytes TLS has already received and decrypted, waiting to be read.
  bool buffered() { return tls && ::SSL_pending(tls->native_handle()) > 0; }
};

namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::chrono::milliseconds since(clock_type::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
}

}  // namespace

const http_answer& raw_reply::first() const {
  if (responses.empty()) throw std::runtime_error("the server sent no complete response; got: " + rest.substr(0, 500));
  return responses.front();
}

raw_connection::raw_connection(const std::string& host, std::uint16_t port, const std::string& ca_file)
    : transport_(std::make_unique<transport>()) {
  transport_->socket.connect(tcp::endpoint(asio::ip::make_address(host), port));
  transport_->socket.set_option(tcp::no_delay(true));
  if (ca_file.empty()) return;
  transport_->context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  transport_->context->load_verify_file(ca_file);
  transport_->context->set_verify_mode(asio::ssl::verify_peer);
  transport_->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(transport_->socket, *transport_->context);
  transport_->tls->set_verify_callback(asio::ssl::host_name_verification(host));
  transport_->tls->handshake(asio::ssl::stream_base::client);
}

raw_connection::~raw_connection() = default;

bool raw_connection::send(std::string_view bytes) {
  boost::system::error_code ec;
  transport_->write(asio::buffer(bytes.data(), bytes.size()), ec);
  return !ec;
}

bool raw_connection::read_for(std::chrono::milliseconds wait) {
  if (closed_) return false;
  if (!transport_->buffered()) {
    pollfd fd{transport_->socket.native_handle(), POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(std::max<std::int64_t>(wait.count(), 0))) <= 0) return true;
  }
  char chunk[16 * 1024];
  boost::system::error_code ec;
  const auto n = transport_->read_some(asio::buffer(chunk), ec);
  received_.append(chunk, n);
  if (ec) closed_ = true;  // end of stream, or a reset: either way the server is done with us
  return !closed_;
}

raw_reply raw_connection::reply(clock_type::time_point started) const {
  raw_reply out;
  out.responses = split_responses(received_, out.rest);
  out.closed = closed_;
  out.elapsed = since(started);
  return out;
}

raw_reply raw_connection::read_until_closed(std::chrono::milliseconds limit) {
  const auto started = clock_type::now();
  while (!closed_ && since(started) < limit) read_for(limit - since(started));
  return reply(started);
}

raw_reply raw_connection::trickle(std::string_view bytes, std::chrono::milliseconds pause,
                                  std::chrono::milliseconds limit) {
  const auto started = clock_type::now();
  for (const char byte : bytes) {
    if (!send(std::string_view(&byte, 1))) break;
    const auto next = clock_type::now() + pause;
    while (!closed_ && received_.empty() && clock_type::now() < next) {
      read_for(std::chrono::duration_cast<std::chrono::milliseconds>(next - clock_type::now()));
    }
    if (closed_ || !received_.empty() || since(started) >= limit) break;
  }
  while (!closed_ && since(started) < limit) read_for(limit - since(started));
  return reply(started);
}

std::string gateway_ca_file() {
  const char* url = std::getenv("CQRS_HTTP_URL");
  const char* ca = std::getenv("CQRS_TLS_CA_FILE");
  if (url == nullptr || ca == nullptr || std::string_view(url).substr(0, 8) != "https://") return {};
  return ca;
}

raw_reply send_raw(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds limit) {
  raw_connection connection("127.0.0.1", port);
  connection.send(bytes);
  return connection.read_until_closed(limit);
}

std::vector<http_answer> split_responses(std::string_view bytes, std::string& rest) {
  std::vector<http_answer> out;
  while (!bytes.empty()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(64 * 1024 * 1024);
    boost::system::error_code ec;
    const auto used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec || !parser.is_done()) break;
    auto message = parser.release();
    http_answer answer;
    answer.status = static_cast<int>(message.result_int());
    for (const auto& field : message) answer.headers.emplace_back(lowercase(field.name_string()), std::string(field.value()));
    answer.body = std::move(message.body());
    out.push_back(std::move(answer));
    bytes.remove_prefix(used);
  }
  rest = std::string(bytes);
  return out;
}

}  // namespace cqrs::tests
