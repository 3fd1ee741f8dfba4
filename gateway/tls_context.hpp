#pragma once

// The gateway's TLS server context, built with OpenSSL from the configuration: the certificate
// chain and key files, TLS 1.3 only unless TLS 1.2 is allowed. Built at start-up (a bad file stops
// start-up naming its variable) and again on SIGHUP (http_server swaps it in for new connections).
// OpenSSL is included only by tls_context.cpp; the server adopts the handle into Asio's context.

#include <memory>
#include <string>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace cqrs::gateway {

struct tls_config {
  // false: plain HTTP, for a gateway behind a load balancer that terminates TLS (CQRS_HTTP_PLAIN).
  bool enabled = true;
  std::string cert_file;  // PEM, the server's certificate first, then its intermediates
  std::string key_file;   // PEM, the certificate's private key
  bool allow_tls12 = false;  // CQRS_TLS_MIN_VERSION=1.2, for old clients
};

struct tls_context_deleter {
  void operator()(ssl_ctx_st* context) const noexcept;
};
using tls_context = std::unique_ptr<ssl_ctx_st, tls_context_deleter>;

// Reads both files now. Throws core::config_error naming CQRS_TLS_CERT_FILE or CQRS_TLS_KEY_FILE
// when a file is missing, unreadable, not PEM, or the key does not belong to the certificate.
tls_context make_tls_context(const tls_config& config);

// The subject and serial number of the certificate a context serves (for the log after a reload).
std::string describe_certificate(const ssl_ctx_st* context);

}  // namespace cqrs::gateway
