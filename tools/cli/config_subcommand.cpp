#include <iostream>

#include <fmt/format.h>

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

int run_config(const core::settings_source& source) {
  const auto config = core::load_engine_config(source);
  std::cout << fmt::format("CQRS_PG_URL={}\nCQRS_PG_POOL_SIZE={}\nCQRS_REDIS_URL={}\n", redact_url(config.postgres.url),
                           config.postgres.pool_size, redact_url(config.redis.url))
            << fmt::format("CQRS_KAFKA_BOOTSTRAP={}\nCQRS_KAFKA_TOPIC={}\n", config.kafka.bootstrap, config.kafka.topic);
  for (const auto& [key, value] : config.kafka.properties) {
    const bool secret = key.find("password") != std::string::npos || key.find("secret") != std::string::npos;
    std::cout << fmt::format("kafka property {}={}\n", key, secret ? "***" : value);
  }
  std::cout << fmt::format("CQRS_HTTP_HOST={}\nCQRS_HTTP_PORT={}\nCQRS_HTTP_THREADS={}\nCQRS_LOG_LEVEL={}\n",
                           config.http.host, config.http.port, config.http.threads, core::to_string(config.log));
  return 0;
}

}  // namespace

subcommand config_subcommand() {
  return {"config", "validate the engine's configuration and print it (secrets masked)", core::engine_settings(),
          run_config};
}

}  // namespace cqrs::tools::cli
