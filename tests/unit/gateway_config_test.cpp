// The gateway's own settings on top of the engine's: the command cache's size.

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "core/config.hpp"
#include "gateway/gateway_config.hpp"

using namespace cqrs;

namespace {

std::map<std::string, std::string> env_with(std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> env{{"CQRS_PG_URL", "postgresql://postgres@127.0.0.1:5432/cqrs"},
                                         {"CQRS_REDIS_URL", "redis://127.0.0.1:6379/0"},
                                         {"CQRS_KAFKA_BOOTSTRAP", "127.0.0.1:9092"}};
  // Plain HTTP unless a test asks for TLS: these tests have no certificate files.
  if (!extra.contains("CQRS_TLS_CERT_FILE") && !extra.contains("CQRS_HTTP_PLAIN")) env.emplace("CQRS_HTTP_PLAIN", "true");
  env.merge(extra);
  return env;
}

gateway::gateway_config load(std::map<std::string, std::string> extra) {
  return gateway::load_gateway_config(core::settings_source(env_with(std::move(extra)), {}));
}

// The variable a configuration is refused for; empty when it is accepted.
std::string refused_for(std::map<std::string, std::string> extra) {
  try {
    (void)load(std::move(extra));
    return {};
  } catch (const core::config_error& e) {
    return e.variable();
  }
}

// Each value is refused with an error that names the variable.
void check_refused(const char* variable, std::initializer_list<const char*> values) {
  for (const char* bad : values) {
    CAPTURE(bad);
    try {
      (void)load({{variable, bad}});
      FAIL("accepted");
    } catch (const core::config_error& e) {
      CHECK(e.variable() == variable);
    }
  }
}

}  // namespace

TEST_CASE("CQRS_COMMAND_CACHE_SIZE: 100,000 products by default, 0 turns the cache off, nonsense is refused") {
  CHECK(load({}).command_cache_size == 100'000);
  CHECK(load({{"CQRS_COMMAND_CACHE_SIZE", "0"}}).command_cache_size == 0);
  CHECK(load({{"CQRS_COMMAND_CACHE_SIZE", "250"}}).command_cache_size == 250);
  check_refused("CQRS_COMMAND_CACHE_SIZE", {"-1", "many", "10000001"});
}

TEST_CASE("CQRS_COMMAND_CACHE_SIZES: a size per aggregate category, the others keep CQRS_COMMAND_CACHE_SIZE") {
  const auto config = load({{"CQRS_COMMAND_CACHE_SIZE", "300"}, {"CQRS_COMMAND_CACHE_SIZES", "product=50,order=0"}});
  CHECK(config.command_cache_size_for("product") == 50);
  CHECK(config.command_cache_size_for("order") == 0);
  CHECK(config.command_cache_size_for("user") == 300);
  CHECK(load({}).command_cache_size_for("product") == 100'000);
  check_refused("CQRS_COMMAND_CACHE_SIZES",
                {"product", "product=", "=5", "product=-1", "product=many", "product=10000001", "product=1,product=2",
                 "pro duct=5"});
}

TEST_CASE("CQRS_GROUP_COMMIT_MAX: 64 appends per group by default, 1 writes each alone, nonsense is refused") {
  CHECK(load({}).group_commit_max == 64);
  CHECK(load({{"CQRS_GROUP_COMMIT_MAX", "1"}}).group_commit_max == 1);
  CHECK(load({{"CQRS_GROUP_COMMIT_MAX", "200"}}).group_commit_max == 200);
  check_refused("CQRS_GROUP_COMMIT_MAX", {"0", "-3", "lots", "1001"});
}

TEST_CASE("TLS: HTTPS needs a readable certificate and key; plain HTTP only when asked for by name") {
  CHECK_FALSE(load({}).tls.enabled);  // CQRS_HTTP_PLAIN=true (env_with)
  CHECK(refused_for({{"CQRS_TLS_CERT_FILE", ""}, {"CQRS_HTTP_PLAIN", "false"}}) == "CQRS_TLS_CERT_FILE");
  CHECK(refused_for({{"CQRS_TLS_CERT_FILE", "/nonexistent/cert.pem"}, {"CQRS_TLS_KEY_FILE", "/nonexistent/key.pem"}}) ==
        "CQRS_TLS_CERT_FILE");
  // A readable file that holds no certificate: named too, not a crash at the first handshake.
  CHECK(refused_for({{"CQRS_TLS_CERT_FILE", "/proc/version"}, {"CQRS_TLS_KEY_FILE", "/proc/version"}}) ==
        "CQRS_TLS_CERT_FILE");
  CHECK(refused_for({{"CQRS_HTTP_PLAIN", "maybe"}}) == "CQRS_HTTP_PLAIN");
  check_refused("CQRS_TLS_MIN_VERSION", {"1.1", "1.0", "tls1.3"});
  CHECK(load({{"CQRS_TLS_MIN_VERSION", "1.2"}}).tls.allow_tls12);
  CHECK_FALSE(load({}).tls.allow_tls12);
}
