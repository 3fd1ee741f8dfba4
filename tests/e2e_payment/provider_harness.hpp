#pragma once

// What the payment provider's tests need around the real process: cqrs-payment-provider started
// over HTTPS with the test stack's certificate (CQRS_TLS_CERT_FILE, CQRS_TLS_KEY_FILE) on a port
// of its own choosing (read from its "listening" log line) and stopped with SIGTERM; a client
// (core/https_client.hpp, trusting CQRS_TLS_CA_FILE) whose every call has a deadline and tells an answer from a timeout and from a connection
// closed without an answer; and a tiny HTTP listener that receives the provider's webhooks.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "core/https_client.hpp"

namespace cqrs::tests::payment {

using settings = std::vector<std::pair<std::string, std::string>>;

// One cqrs-payment-provider process; destruction stops it (SIGTERM, then SIGKILL) and reaps it.
// PR_SET_PDEATHSIG kills it should the test binary die first.
class provider_process {
 public:
  // `extra` as environment variables on top of a test secret and port 0.
  explicit provider_process(const settings& extra = {});
  ~provider_process();
  provider_process(const provider_process&) = delete;
  provider_process& operator=(const provider_process&) = delete;

  std::uint16_t port() const { return port_; }
  const std::string& secret() const { return secret_; }
  std::string log() const;

 private:
  std::string log_path_;
  std::string secret_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

struct reply {
  enum class outcome { answered, timed_out, closed_without_answer, refused };
  outcome result = outcome::refused;
  unsigned status = 0;
  std::string body;
  bool replayed = false;  // Idempotent-Replayed: true
  std::chrono::milliseconds elapsed{0};

  boost::json::value json() const;
};

// The provider's HTTPS address (its certificate is the test stack's: CQRS_TLS_CA_FILE verifies it).
core::http_endpoint provider_endpoint(std::uint16_t port);

// One request over HTTPS on a fresh connection, given up after `deadline` (connect, send and answer).
reply call(std::uint16_t port, const std::string& method, const std::string& target, const std::string& body = {},
           std::optional<std::string> idempotency_key = std::nullopt,
           std::chrono::milliseconds deadline = std::chrono::seconds(5));

struct received_webhook {
  std::string signature;  // the Provider-Signature header
  std::string body;
};

// A certificate authority and a server certificate for localhost and 127.0.0.1 signed by it, made
// with the openssl command in a scratch directory (removed when destroyed).
class test_certificates {
 public:
  test_certificates();
  ~test_certificates();
  test_certificates(const test_certificates&) = delete;
  test_certificates& operator=(const test_certificates&) = delete;

  std::string ca_file() const { return dir_ + "/ca.pem"; }
  std::string cert_file() const { return dir_ + "/server.pem"; }
  std::string key_file() const { return dir_ + "/server.key"; }

 private:
  std::string dir_;
};

// Receives POSTs on 127.0.0.1 on a thread of its own, over HTTPS when given certificates; answers
// 503 to the first `refuse_first` deliveries and 200 to the rest, recording every one.
class webhook_listener {
 public:
  explicit webhook_listener(int refuse_first = 0, const test_certificates* tls = nullptr);
  ~webhook_listener();
  webhook_listener(const webhook_listener&) = delete;
  webhook_listener& operator=(const webhook_listener&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const;
  std::vector<received_webhook> received() const;

 private:
  struct state;
  std::unique_ptr<state> state_;
  std::uint16_t port_ = 0;
  bool tls_ = false;
  std::thread thread_;
};

}  // namespace cqrs::tests::payment
