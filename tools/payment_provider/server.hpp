#pragma once

// cqrs-payment-provider's HTTP server: Beast, C++20 coroutines, one io_context on one thread (the
// ledger is then never shared between threads). It carries provider_api's answers, applies the
// injected faults around them, and settles pending charges with a signed webhook.

#include <cstdint>
#include <memory>

#include "core/log.hpp"
#include "tools/payment_provider/provider_config.hpp"

namespace cqrs::tools::payment_provider {

class provider_server {
 public:
  provider_server(const provider_config& config, const core::logger& log);
  ~provider_server();
  provider_server(const provider_server&) = delete;
  provider_server& operator=(const provider_server&) = delete;

  std::uint16_t port() const;
  bool tls() const;
  // Serves until SIGTERM or SIGINT.
  void run();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace cqrs::tools::payment_provider
