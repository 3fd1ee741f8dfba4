#include "tools/payment_provider/provider_config.hpp"

namespace cqrs::tools::payment_provider {

const std::vector<core::setting_spec>& provider_settings() {
  static const std::vector<core::setting_spec> specs = {
      {"CQRS_PAYMENT_PROVIDER_HOST", "127.0.0.1", "address to listen on"},
      {"CQRS_PAYMENT_PROVIDER_PORT", "8090", "port to listen on (0: any free port, logged at start)"},
      {"CQRS_PAYMENT_WEBHOOK_URL", "", "http:// or https:// URL the settled pending charges are POSTed to (the engine's "
                                       "/v1/payments/provider-events); empty: no webhooks"},
      {"CQRS_PAYMENT_WEBHOOK_CA_FILE", "", "PEM file of the CA an https:// webhook receiver's certificate must "
                                          "chain to (empty: the system's trust store)"},
      {"CQRS_PAYMENT_PROVIDER_TLS_CERT_FILE", "", "PEM certificate chain: serve HTTPS (TLS 1.3 only) with it; empty "
                                                "(with the key file): plain HTTP"},
      {"CQRS_PAYMENT_PROVIDER_TLS_KEY_FILE", "", "PEM private key of the certificate chain"},
      {"CQRS_PAYMENT_WEBHOOK_SECRET", "", "HMAC-SHA-256 key of the Provider-Signature header (required)"},
      {"CQRS_PAYMENT_PROVIDER_SETTLE_DELAY_MS", "2000", "how long a tok_pending charge stays pending"},
      {"CQRS_PAYMENT_PROVIDER_TIMEOUT_DELAY_MS", "30000", "how late a 'timeout' fault answers"},
      {"CQRS_PAYMENT_PROVIDER_SEED", "1", "seed of the fault draws: the same seed and calls give the same faults"},
      {"CQRS_LOG_LEVEL", "info", "debug, info, warn or error"},
  };
  return specs;
}

provider_config load_provider_config(const core::settings_source& source) {
  using std::chrono::milliseconds;
  provider_config config;
  config.host = source.text("CQRS_PAYMENT_PROVIDER_HOST", config.host);
  config.port = static_cast<std::uint16_t>(source.integer("CQRS_PAYMENT_PROVIDER_PORT", config.port, 0, 65535));
  if (source.raw("CQRS_PAYMENT_WEBHOOK_URL")) {
    config.webhook_url = source.url("CQRS_PAYMENT_WEBHOOK_URL", "", {"http", "https"});
  }
  config.webhook_ca_file = source.text("CQRS_PAYMENT_WEBHOOK_CA_FILE", "");
  config.webhook_secret = source.required_text("CQRS_PAYMENT_WEBHOOK_SECRET");
  config.tls_cert_file = source.text("CQRS_PAYMENT_PROVIDER_TLS_CERT_FILE", "");
  config.tls_key_file = source.text("CQRS_PAYMENT_PROVIDER_TLS_KEY_FILE", "");
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    throw core::config_error(config.tls_cert_file.empty() ? "CQRS_PAYMENT_PROVIDER_TLS_CERT_FILE"
                                                          : "CQRS_PAYMENT_PROVIDER_TLS_KEY_FILE",
                             "is required with its pair (a certificate and its key, or neither for plain HTTP)");
  }
  config.settle_delay = source.milliseconds("CQRS_PAYMENT_PROVIDER_SETTLE_DELAY_MS", config.settle_delay,
                                            milliseconds(0), milliseconds(3'600'000));
  config.timeout_delay = source.milliseconds("CQRS_PAYMENT_PROVIDER_TIMEOUT_DELAY_MS", config.timeout_delay,
                                             milliseconds(1), milliseconds(3'600'000));
  config.seed = static_cast<std::uint64_t>(source.integer("CQRS_PAYMENT_PROVIDER_SEED", 1, 0, INT64_MAX));
  config.log = source.level("CQRS_LOG_LEVEL", config.log);
  return config;
}

}  // namespace cqrs::tools::payment_provider
