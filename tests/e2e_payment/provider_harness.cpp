#include "tests/e2e_payment/provider_harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "core/https_client.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/stack.hpp"

extern char** environ;

namespace cqrs::tests::payment {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

[[noreturn]] void exec_provider(const std::string& log_path, const settings& env) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
  }
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  const char* binary = CQRS_PAYMENT_PROVIDER_BINARY;
  execl(binary, binary, static_cast<char*>(nullptr));
  _exit(127);
}

}  // namespace

provider_process::provider_process(const settings& extra) {
  char path[] = "/tmp/cqrs-payment-provider-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  log_path_ = path;
  secret_ = fmt::format("whsec_{:x}", static_cast<unsigned>(getpid()) * 2654435761u + static_cast<unsigned>(time(nullptr)));
  // HTTPS with the test stack's certificate, as in the dev stack (tools/lib/common.sh).
  settings env{{"CQRS_PAYMENT_PROVIDER_PORT", "0"},
               {"CQRS_PAYMENT_WEBHOOK_SECRET", secret_},
               {"CQRS_PAYMENT_PROVIDER_TLS_CERT_FILE", stack_setting("CQRS_TLS_CERT_FILE")},
               {"CQRS_PAYMENT_PROVIDER_TLS_KEY_FILE", stack_setting("CQRS_TLS_KEY_FILE")}};
  env.insert(env.end(), extra.begin(), extra.end());
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) exec_provider(log_path_, env);
  const std::regex listening(R"(msg=listening .*port=(\d+))");
  std::smatch match;
  std::string text;
  const bool up = eventually(
      [&] {
        text = read_file(log_path_);
        return std::regex_search(text, match, listening);
      },
      10s);
  if (!up) throw std::runtime_error("cqrs-payment-provider did not start: " + text);
  port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
}

provider_process::~provider_process() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    const bool exited = eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, 10s);
    if (!exited) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  ::unlink(log_path_.c_str());
}

std::string provider_process::log() const { return read_file(log_path_); }

boost::json::value reply::json() const {
  boost::system::error_code error;
  auto value = boost::json::parse(body, error);
  return error ? boost::json::value() : value;
}

reply call(std::uint16_t port, const std::string& method, const std::string& target, const std::string& body,
           std::optional<std::string> idempotency_key, std::chrono::milliseconds deadline) {
  const core::https_client client({.ca_file = stack_setting("CQRS_TLS_CA_FILE")});
  core::http_call request{method, target, {}, body};
  if (idempotency_key) request.headers.emplace_back("Idempotency-Key", *idempotency_key);
  const auto started = std::chrono::steady_clock::now();
  const auto answer = client.send(provider_endpoint(port), request, started + deadline);
  reply out;
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  switch (answer.result) {
    case core::http_reply::outcome::answered: out.result = reply::outcome::answered; break;
    case core::http_reply::outcome::timed_out: out.result = reply::outcome::timed_out; break;
    case core::http_reply::outcome::closed_without_answer: out.result = reply::outcome::closed_without_answer; break;
    case core::http_reply::outcome::connect_failed:
    case core::http_reply::outcome::tls_failed: out.result = reply::outcome::refused; break;
  }
  out.status = answer.status;
  out.body = answer.body;
  out.replayed = answer.header("Idempotent-Replayed") == "true";
  return out;
}

core::http_endpoint provider_endpoint(std::uint16_t port) {
  return core::parse_http_endpoint(fmt::format("https://127.0.0.1:{}", port));
}

test_certificates::test_certificates() {
  char path[] = "/tmp/cqrs-payment-tls-XXXXXX";
  if (mkdtemp(path) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = path;
  const auto script = fmt::format(
      "cd {} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca "
      "-keyout ca.key -out ca.pem && "
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
      "-keyout server.key -out server.csr && "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -days 1 -set_serial 7 -extfile ext "
      "-out server.pem",
      dir_);
  if (std::system(fmt::format("({}) >{}/openssl.log 2>&1", script, dir_).c_str()) != 0) {
    throw std::runtime_error("openssl could not make the test certificates (see " + dir_ + ")");
  }
}

test_certificates::~test_certificates() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

struct webhook_listener::state {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::unique_ptr<asio::ssl::context> tls;  // null: plain HTTP
  mutable std::mutex mutex;
  std::vector<received_webhook> received;
  int refuse_first = 0;

  asio::awaitable<void> accept() {
    for (;;) {
      auto [error, socket] = co_await acceptor.async_accept(no_throw);
      if (error) co_return;
      asio::co_spawn(io, tls ? serve_tls(std::move(socket)) : serve_plain(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve_plain(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(stream);
  }

  asio::awaitable<void> serve_tls(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
    auto [error] = co_await stream.async_handshake(asio::ssl::stream_base::server, no_throw);
    if (!error) co_await serve(stream);
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [error, read] = co_await http::async_read(stream, buffer, request, no_throw);
    if (error) co_return;
    bool accept_it = false;
    {
      const std::lock_guard lock(mutex);
      received.push_back({std::string(request["Provider-Signature"]), request.body()});
      accept_it = static_cast<int>(received.size()) > refuse_first;
    }
    http::response<http::string_body> response(accept_it ? http::status::ok : http::status::service_unavailable, 11);
    response.keep_alive(false);
    response.prepare_payload();
    co_await http::async_write(stream, response, no_throw);
  }
};

webhook_listener::webhook_listener(int refuse_first, const test_certificates* tls)
    : state_(std::make_unique<state>()), tls_(tls != nullptr) {
  state_->refuse_first = refuse_first;
  if (tls != nullptr) {
    state_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    state_->tls->use_certificate_chain_file(tls->cert_file());
    state_->tls->use_private_key_file(tls->key_file(), asio::ssl::context::pem);
  }
  port_ = state_->acceptor.local_endpoint().port();
  asio::co_spawn(state_->io, state_->accept(), asio::detached);
  thread_ = std::thread([this] { state_->io.run(); });
}

webhook_listener::~webhook_listener() {
  state_->io.stop();
  thread_.join();
}

std::string webhook_listener::url() const {
  return fmt::format("{}://localhost:{}/v1/payments/provider-events", tls_ ? "https" : "http", port_);
}

std::vector<received_webhook> webhook_listener::received() const {
  const std::lock_guard lock(state_->mutex);
  return state_->received;
}

}  // namespace cqrs::tests::payment
