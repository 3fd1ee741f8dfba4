#include "gateway/tls_context.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>
#include <fmt/format.h>

#include "core/config.hpp"

namespace cqrs::gateway {

namespace {

// OpenSSL's queued errors as one line (its error queue is per thread: drained here, so a later
// failure does not report an earlier one).
std::string openssl_errors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

// fopen first: "No such file" or "Permission denied" says more than OpenSSL's PEM errors do.
void require_readable(const std::string& path, const char* variable) {
  if (path.empty()) throw core::config_error(variable, "is required unless CQRS_HTTP_PLAIN=true (plain HTTP)");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    throw core::config_error(variable, fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  }
  std::fclose(file);
}

}  // namespace

void tls_context_deleter::operator()(ssl_ctx_st* context) const noexcept { SSL_CTX_free(context); }

tls_context make_tls_context(const tls_config& config) {
  require_readable(config.cert_file, "CQRS_TLS_CERT_FILE");
  require_readable(config.key_file, "CQRS_TLS_KEY_FILE");
  ERR_clear_error();
  tls_context context(SSL_CTX_new(TLS_server_method()));
  if (!context) throw std::runtime_error("SSL_CTX_new: " + openssl_errors());
  SSL_CTX_set_min_proto_version(context.get(), config.allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  // Renegotiation (TLS 1.2) lets a client make the server redo handshakes at will; compression
  // leaks secrets (CRIME); server preference picks the strongest suite both sides know.
  SSL_CTX_set_options(context.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(context.get(), config.cert_file.c_str()) != 1) {
    throw core::config_error("CQRS_TLS_CERT_FILE",
                             fmt::format("'{}' is not a PEM certificate chain: {}", config.cert_file, openssl_errors()));
  }
  if (SSL_CTX_use_PrivateKey_file(context.get(), config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL compares the key with the certificate as it loads it.
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    throw core::config_error("CQRS_TLS_KEY_FILE",
                             fmt::format("'{}' is {}: {}", config.key_file,
                                         mismatch ? fmt::format("not the key of the certificate in '{}'", config.cert_file)
                                                  : "not a PEM private key",
                                         openssl_errors()));
  }
  if (SSL_CTX_check_private_key(context.get()) != 1) {
    throw core::config_error("CQRS_TLS_KEY_FILE", fmt::format("'{}' is not the key of the certificate in '{}': {}",
                                                              config.key_file, config.cert_file, openssl_errors()));
  }
  return context;
}

std::string describe_certificate(const ssl_ctx_st* context) {
  X509* certificate = SSL_CTX_get0_certificate(context);
  if (certificate == nullptr) return "no certificate";
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(certificate);
  BIGNUM* number = ASN1_INTEGER_to_BN(serial, nullptr);
  char* hex = number == nullptr ? nullptr : BN_bn2hex(number);
  std::string text = fmt::format("{} serial {}", subject, hex == nullptr ? "?" : hex);
  OPENSSL_free(hex);
  BN_free(number);
  return text;
}

}  // namespace cqrs::gateway
