// cqrs config: validate the configuration every engine process would read, with the loaders those
// processes run at start-up (gateway, relay, projector), and print it with secrets masked. A
// setting one of them refuses makes this exit non-zero too.

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "commands/relay/relay_config.hpp"
#include "core/security/security_config.hpp"
#include "gateway/gateway_config.hpp"
#include "projections/catalog.hpp"
#include "projections/projector.hpp"
#include "tools/cli/subcommand.hpp"

namespace cqrs::tools::cli {

namespace {

// Credentials in URLs (user:password@) are masked: this output ends up in tickets and chats.
std::string redact_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto at = url.find('@');
  if (scheme_end == std::string::npos || at == std::string::npos || at < scheme_end) return url;
  const auto colon = url.find(':', scheme_end + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

void print_engine(const core::engine_config& config) {
  std::cout << fmt::format("CQRS_PG_URL={}\nCQRS_PG_POOL_SIZE={}\nCQRS_REDIS_URL={}\n", redact_url(config.postgres.url),
                           config.postgres.pool_size, redact_url(config.redis.url))
            << fmt::format("CQRS_KAFKA_BOOTSTRAP={}\nCQRS_KAFKA_TOPIC={}\n", config.kafka.bootstrap, config.kafka.topic);
  for (const auto& [key, value] : config.kafka.properties) {
    const bool secret = key.find("password") != std::string::npos || key.find("secret") != std::string::npos;
    std::cout << fmt::format("kafka property {}={}\n", key, secret ? "***" : value);
  }
  std::cout << fmt::format("CQRS_HTTP_HOST={}\nCQRS_HTTP_PORT={}\nCQRS_HTTP_THREADS={}\nCQRS_LOG_LEVEL={}\n",
                           config.http.host, config.http.port, config.http.threads, core::to_string(config.log));
}

// Personal data settings, when the deployment stores personal data: the key files are read (and
// checked), the keys themselves never printed, only their ids.
void check_security(const core::settings_source& source) {
  const auto passwords = core::security::load_password_config(source);
  std::cout << fmt::format("argon2id: {} KiB, {} passes; password threads {} (0: one per core), queue {}\n",
                           passwords.argon2.mem_limit / 1024, passwords.argon2.ops_limit, passwords.pool.threads,
                           passwords.pool.queue_limit);
  const auto pii = core::security::load_pii_config(source);
  if (!pii) {
    std::cout << "CQRS_PII_MASTER_KEY_FILE=(unset: no personal data can be stored)\n";
    return;
  }
  const auto keys = core::security::read_pii_keys(*pii);
  std::cout << fmt::format("CQRS_PII_MASTER_KEY_FILE={} (key id {})\nCQRS_PII_INDEX_KEY_FILE={}\n",
                           pii->master_key_file.string(), keys.ring.current_id(), pii->index_key_file.string())
            << fmt::format("CQRS_PII_KEYSTORE_URL={}\nCQRS_PII_KEY_CACHE_MS={}\n", redact_url(pii->keystore_url),
                           pii->vault.cache_ttl.count());
}

int run_config(const core::settings_source& source) {
  const auto gateway = gateway::load_gateway_config(source);  // the engine's settings included
  const auto relay = commands::relay::load_relay_config(source);
  (void)commands::relay::producer_properties(relay.relay);  // refuses properties that weaken the relay
  (void)projections::load_projector_config(source);
  (void)projections::load_runtime_settings(source);  // the projector's Redis and scope
  print_engine(gateway.engine);
  check_security(source);
  std::cout << fmt::format("CQRS_JWT_SECRET={}\nCQRS_RELAY_NAME={}\n", gateway.auth.jwt_secret.empty() ? "(unset)" : "***",
                           relay.relay.name)
            << "gateway, relay and projector settings: valid\n";
  return 0;
}

// Every setting of the processes checked, once each, for flags and --help.
std::vector<core::setting_spec> all_process_settings() {
  std::vector<core::setting_spec> all = core::engine_settings();
  const auto add = [&all](const std::vector<core::setting_spec>& specs) {
    for (const auto& spec : specs) {
      const bool known = std::any_of(all.begin(), all.end(), [&spec](const auto& s) { return s.env == spec.env; });
      if (!known) all.push_back(spec);
    }
  };
  add(gateway::gateway_settings());
  add(commands::relay::relay_settings());
  add(projector_subcommand().settings);
  add(core::security::security_settings());
  return all;
}

}  // namespace

subcommand config_subcommand() {
  return {"config",
          "validate the configuration of the gateway, the relay and the projector as they do at start-up, and "
          "print it (secrets masked)",
          all_process_settings(), run_config};
}

}  // namespace cqrs::tools::cli
