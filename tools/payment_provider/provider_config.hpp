#pragma once

// cqrs-payment-provider's settings (environment variables or flags, core::settings_source).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/log.hpp"

namespace cqrs::tools::payment_provider {

struct provider_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8090;
  // Where settled pending charges are announced (the engine's POST /v1/payments/provider-events);
  // empty: pending charges settle without a webhook.
  std::string webhook_url;
  std::string webhook_secret;
  std::string webhook_ca_file;  // empty: the system's trust store
  // HTTPS (TLS 1.3 only) with this certificate chain and key; both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::chrono::milliseconds settle_delay{2000};
  // How late a "timeout" fault answers: longer than any client deadline.
  std::chrono::milliseconds timeout_delay{30000};
  std::uint64_t seed = 1;
  core::log_level log = core::log_level::info;
};

const std::vector<core::setting_spec>& provider_settings();
provider_config load_provider_config(const core::settings_source& source);

}  // namespace cqrs::tools::payment_provider
