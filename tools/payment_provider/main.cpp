// cqrs-payment-provider: a stand-in card processor for tests and local runs (charges, captures,
// voids, refunds with Stripe-like idempotency, test card tokens, signed webhooks, injected
// faults). docs/payment-provider.md describes its API. See --help.

#include <cstdlib>
#include <exception>
#include <iostream>

#include "core/config.hpp"
#include "core/log.hpp"
#include "tools/payment_provider/provider_config.hpp"
#include "tools/payment_provider/server.hpp"

extern char** environ;

namespace cqrs::tools::payment_provider {
namespace {

constexpr int exit_usage = 2;

int serve(const provider_config& config) {
  const core::logger log("payment-provider", config.log);
  provider_server server(config, log);
  log.info("listening", {{"host", config.host},
                         {"port", server.port()},
                         {"scheme", server.tls() ? "https" : "http"},
                         {"webhook_url", config.webhook_url.empty() ? "none" : config.webhook_url},
                         {"seed", config.seed}});
  server.run();
  log.info("stopped");
  return EXIT_SUCCESS;
}

int main(int argc, char** argv) {
  try {
    const auto source = core::settings_source::from_command_line(argc, argv, environ, provider_settings());
    if (source.help_requested()) {
      std::cout << core::settings_help("cqrs-payment-provider",
                                       "A stand-in card processor for tests and local runs "
                                       "(docs/payment-provider.md). State lives in memory.",
                                       provider_settings());
      return EXIT_SUCCESS;
    }
    return serve(load_provider_config(source));
  } catch (const core::config_error& e) {
    std::cerr << "cqrs-payment-provider: " << e.what() << "\n(try --help)\n";
    return exit_usage;
  } catch (const std::exception& e) {
    core::logger("payment-provider").error("payment provider failed", {{"error", e.what()}});
    return EXIT_FAILURE;
  }
}

}  // namespace
}  // namespace cqrs::tools::payment_provider

int main(int argc, char** argv) { return cqrs::tools::payment_provider::main(argc, argv); }
