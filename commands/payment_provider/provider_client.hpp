#pragma once

// The engine's HTTPS client of the card processor (docs/payment-provider.md), used by the
// order-fulfilment saga on its own threads: synchronous calls, each through the resilience
// instance `payment_provider` (core/resilience: bulkhead -> retry -> circuit breaker -> time limit
// -> the call, docs/resilience.md), each with its idempotency key (provider_answers.hpp: the
// same key on every attempt, so a retried charge is charged once) and the payment id as metadata.
//
// What the breaker counts as failures: timeouts, connections refused or lost, TLS failures,
// 5xx answers. A decline is a success (the processor answered). A refusal by the open breaker (or
// the full bulkhead) is transient{not_permitted = true}, never retried, and reaches no network.
// Every attempt's deadline cancels the exchange itself (core/https_client.hpp).
//
// Thread-safe: one client serves every saga thread. execute() blocks the calling thread during a
// bulkhead wait and the retry's backoffs: never call it on an I/O thread.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands/payment_provider/provider_answers.hpp"
#include "core/config.hpp"
#include "core/https_client.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/resilience/config.hpp"
#include "core/resilience/pipeline.hpp"
#include "schemas/contracts/value_types.hpp"

namespace cqrs::commands::payment_provider {

inline constexpr std::string_view resilience_instance = "payment_provider";

struct client_config {
  std::string url;      // CQRS_PAYMENT_PROVIDER_URL, https://host[:port]
  std::string ca_file;  // CQRS_PAYMENT_PROVIDER_CA_FILE; empty: the system's trust store
  // Resolve, connect and TLS handshake of one attempt (never past the attempt's deadline).
  std::chrono::milliseconds connect_timeout{2000};  // CQRS_PAYMENT_PROVIDER_CONNECT_TIMEOUT_MS
  core::resilience::instance_config resilience = core::resilience::defaults_for(resilience_instance);
};

// The client's settings, the resilience instance's (CQRS_RESILIENCE_PAYMENT_PROVIDER_*) included,
// for the hosting process's --help.
std::vector<core::setting_spec> client_settings();
// Throws core::config_error naming the variable (the URL must be https://).
client_config load_client_config(const core::settings_source& source);

class provider_client {
 public:
  // For tests: the clock and sleeper of the resilience pipeline (core/resilience/pipeline.hpp).
  struct test_hooks {
    std::shared_ptr<const core::resilience::clock> clock;
    core::resilience::pipeline::sleeper sleep;
  };

  // Reads the CA file now (std::runtime_error naming it when it cannot be read).
  provider_client(client_config config, const core::logger& log, test_hooks hooks = {});
  provider_client(const provider_client&) = delete;
  provider_client& operator=(const provider_client&) = delete;

  // Authorizes `amount` on the card (captured later by capture()).
  call_result charge(std::string_view payment_id, const schemas::money& amount, std::string_view card_token,
                     std::string_view idempotency_key);
  call_result capture(std::string_view payment_id, std::string_view charge_id, std::string_view idempotency_key);
  call_result void_charge(std::string_view payment_id, std::string_view charge_id, std::string_view idempotency_key);
  call_result refund(std::string_view payment_id, std::string_view charge_id, std::string_view refund_id,
                     const schemas::money& amount, std::string_view idempotency_key);
  // The charge made under a charge's key: how a charge whose answer never came is found.
  find_result find_charge(std::string_view idempotency_key);

  // The instance's series (cqrs_resilience_*{name="payment_provider"}) in Prometheus text, for the
  // hosting process's metrics file.
  std::string metrics_text() const;
  core::resilience::pipeline& resilience() { return pipeline_; }

 private:
  call_result post(std::string target, std::string body, std::string_view idempotency_key);
  core::resilience::guarded<core::http_reply> send(const core::http_call& call);

  client_config config_;
  core::logger log_;
  core::http_endpoint endpoint_;
  core::https_client http_;
  core::metrics_registry metrics_;
  core::resilience::pipeline pipeline_;
};

}  // namespace cqrs::commands::payment_provider
