#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/config.hpp"

using namespace cqrs::core;

namespace {

std::map<std::string, std::string> valid_env() {
  return {{"CQRS_PG_URL", "postgresql://postgres@127.0.0.1:5432/cqrs"},
          {"CQRS_REDIS_URL", "redis://127.0.0.1:6379/0"},
          {"CQRS_KAFKA_BOOTSTRAP", "127.0.0.1:9092"}};
}

// The variable a bad configuration is blamed on ("" when it loads).
std::string blamed_variable(std::map<std::string, std::string> env, std::map<std::string, std::string> flags = {}) {
  const settings_source source(std::move(env), std::move(flags));
  try {
    load_engine_config(source);
    return "";
  } catch (const config_error& e) {
    CHECK(std::string(e.what()).starts_with(source.given_as(e.variable()) + ": "));
    return e.variable();
  }
}

// The message of the config_error that `f` throws ("" when it throws none).
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

std::map<std::string, std::string> with(std::string key, std::string value) {
  auto env = valid_env();
  env[std::move(key)] = std::move(value);
  return env;
}

}  // namespace

TEST_CASE("a complete environment loads with the documented defaults") {
  const auto config = load_engine_config(settings_source(valid_env(), {}));
  CHECK(config.postgres.url == "postgresql://postgres@127.0.0.1:5432/cqrs");
  CHECK(config.postgres.pool_size == 16);
  CHECK(config.kafka.topic == "events");
  CHECK(config.http.port == 8080);
  CHECK(config.http.host == "127.0.0.1");
  CHECK(config.log == log_level::info);
}

TEST_CASE("flags override environment variables") {
  const auto config = load_engine_config(settings_source(with("CQRS_HTTP_PORT", "9000"), {{"CQRS_HTTP_PORT", "9100"}}));
  CHECK(config.http.port == 9100);
}

TEST_CASE("each bad value is rejected with the name of its variable") {
  CHECK(blamed_variable(with("CQRS_HTTP_PORT", "http")) == "CQRS_HTTP_PORT");
  CHECK(blamed_variable(with("CQRS_HTTP_PORT", "0")) == "CQRS_HTTP_PORT");
  CHECK(blamed_variable(with("CQRS_HTTP_PORT", "65536")) == "CQRS_HTTP_PORT");
  CHECK(blamed_variable(with("CQRS_HTTP_PORT", "80x")) == "CQRS_HTTP_PORT");
  CHECK(blamed_variable(with("CQRS_HTTP_THREADS", "-1")) == "CQRS_HTTP_THREADS");
  CHECK(blamed_variable(with("CQRS_PG_POOL_SIZE", "1000")) == "CQRS_PG_POOL_SIZE");
  CHECK(blamed_variable(with("CQRS_PG_URL", "mysql://x")) == "CQRS_PG_URL");
  CHECK(blamed_variable(with("CQRS_PG_URL", "postgresql://")) == "CQRS_PG_URL");
  CHECK(blamed_variable(with("CQRS_REDIS_URL", "127.0.0.1:6379")) == "CQRS_REDIS_URL");
  CHECK(blamed_variable(with("CQRS_LOG_LEVEL", "verbose")) == "CQRS_LOG_LEVEL");
  CHECK(blamed_variable(with("CQRS_KAFKA_PROPERTIES", "security.protocol")) == "CQRS_KAFKA_PROPERTIES");
  CHECK(blamed_variable(with("CQRS_KAFKA_PROPERTIES", "=SSL")) == "CQRS_KAFKA_PROPERTIES");
  CHECK(blamed_variable(with("CQRS_KAFKA_PROPERTIES_FILE", "/nonexistent/kafka.properties")) ==
        "CQRS_KAFKA_PROPERTIES_FILE");
  CHECK(blamed_variable(valid_env(), {{"CQRS_HTTP_PORT", "x"}}) == "CQRS_HTTP_PORT");
}

TEST_CASE("required settings that are missing are named") {
  auto env = valid_env();
  env.erase("CQRS_KAFKA_BOOTSTRAP");
  CHECK(blamed_variable(env) == "CQRS_KAFKA_BOOTSTRAP");
  env = valid_env();
  env.erase("CQRS_PG_URL");
  CHECK(blamed_variable(env) == "CQRS_PG_URL");
}

TEST_CASE("Kafka client properties pass through from the variable and the file") {
  const std::string path = "/tmp/cqrs_config_test_" + std::to_string(::getpid()) + ".properties";
  {
    std::ofstream out(path);
    out << "# a real cluster\nsecurity.protocol = SASL_SSL\nsasl.mechanisms=PLAIN\n\n";
  }
  auto env = with("CQRS_KAFKA_PROPERTIES_FILE", path);
  env["CQRS_KAFKA_PROPERTIES"] = "client.id=engine, linger.ms=5";
  const auto config = load_engine_config(settings_source(env, {}));
  std::remove(path.c_str());
  const key_values expected = {
      {"security.protocol", "SASL_SSL"}, {"sasl.mechanisms", "PLAIN"}, {"client.id", "engine"}, {"linger.ms", "5"}};
  CHECK(config.kafka.properties == expected);
}

TEST_CASE("command-line flags are parsed, unknown flags rejected") {
  const std::vector<setting_spec> specs = {{"CQRS_HTTP_PORT", "8080", "port"}, {"CQRS_LOG_LEVEL", "info", "level"}};
  const char* env[] = {"CQRS_HTTP_PORT=1", "CQRS_LOG_LEVEL=warn", nullptr};
  const char* argv[] = {"prog", "--http-port", "4321", nullptr};
  const auto source = settings_source::from_command_line(3, argv, env, specs);
  CHECK(source.integer("CQRS_HTTP_PORT", 0, 1, 65535) == 4321);
  CHECK(source.level("CQRS_LOG_LEVEL", log_level::info) == log_level::warn);
  CHECK_FALSE(source.help_requested());

  const char* bad[] = {"prog", "--no-such-flag", "1", nullptr};
  CHECK_THROWS_AS(settings_source::from_command_line(3, bad, env, specs), config_error);
  const char* missing_value[] = {"prog", "--http-port", nullptr};
  CHECK_THROWS_AS(settings_source::from_command_line(2, missing_value, env, specs), config_error);
  const char* help[] = {"prog", "--help", nullptr};
  CHECK(settings_source::from_command_line(2, help, env, specs).help_requested());
}

TEST_CASE("flag names derive from variable names") {
  CHECK(flag_name("CQRS_HTTP_PORT") == "http-port");
  CHECK(flag_name("CQRS_KAFKA_PROPERTIES_FILE") == "kafka-properties-file");
}

TEST_CASE("every engine setting appears in the help text") {
  const auto help = settings_help("engine", "test", engine_settings());
  for (const auto& spec : engine_settings()) {
    CHECK(help.find(spec.env) != std::string::npos);
    CHECK(help.find("--" + flag_name(spec.env)) != std::string::npos);
  }
}

TEST_CASE("command arguments are flags only: switches, options and one positional, never the environment") {
  const std::vector<setting_spec> specs = {{"CQRS_PG_URL", "", "url"},
                                           {"CQRS_STREAM", "", "stream", spec_kind::positional},
                                           {"CQRS_ALL", "", "everything", spec_kind::flag},
                                           {"CQRS_FORMAT", "json", "format", spec_kind::option}};
  const char* env[] = {"CQRS_PG_URL=postgresql://h/db", "CQRS_ALL=true", "CQRS_FORMAT=table", "CQRS_STREAM=x-1",
                       nullptr};
  const char* none[] = {"prog", nullptr};
  const auto from_env = settings_source::from_command_line(1, none, env, specs);
  CHECK(from_env.raw("CQRS_PG_URL") == "postgresql://h/db");
  CHECK_FALSE(from_env.raw("CQRS_ALL").has_value());
  CHECK_FALSE(from_env.raw("CQRS_FORMAT").has_value());
  CHECK_FALSE(from_env.raw("CQRS_STREAM").has_value());
  CHECK_FALSE(from_env.boolean("CQRS_ALL", false));

  const char* argv[] = {"prog", "product-7", "--all", "--format", "table", nullptr};
  const auto given = settings_source::from_command_line(5, argv, env, specs);
  CHECK(given.raw("CQRS_STREAM") == "product-7");
  CHECK(given.boolean("CQRS_ALL", false));
  CHECK(given.raw("CQRS_FORMAT") == "table");

  const char* named[] = {"prog", "--stream", "product-8", nullptr};
  CHECK(settings_source::from_command_line(3, named, env, specs).raw("CQRS_STREAM") == "product-8");
  const char* two[] = {"prog", "a-1", "b-2", nullptr};
  CHECK_THROWS_AS(settings_source::from_command_line(3, two, env, specs), config_error);

  const auto help = settings_help("prog", "test", specs);
  CHECK(help.find("(switch)") != std::string::npos);
  CHECK(help.find("(flag only)") != std::string::npos);
  CHECK(help.find("(or first argument)") != std::string::npos);
}

TEST_CASE("abbreviated flags are refused, not guessed") {
  const std::vector<setting_spec> specs = {{"CQRS_ALL", "", "everything", spec_kind::flag},
                                           {"CQRS_HTTP_PORT", "8080", "port"}};
  const char* env[] = {nullptr};
  const char* abbreviated[] = {"prog", "--al", nullptr};
  const auto refused = message_of([&] { settings_source::from_command_line(2, abbreviated, env, specs); });
  CHECK(refused.starts_with("command line: "));
  CHECK(refused.find("--al") != std::string::npos);
  const char* prefix_of_setting[] = {"prog", "--http", "80", nullptr};
  CHECK_THROWS_AS(settings_source::from_command_line(3, prefix_of_setting, env, specs), config_error);
  const char* whole[] = {"prog", "--all", nullptr};
  CHECK(settings_source::from_command_line(2, whole, env, specs).boolean("CQRS_ALL", false));
}

TEST_CASE("errors name what the operator gave: the flag typed, or the variable read, never an unread variable") {
  const std::vector<setting_spec> specs = {{"CQRS_HTTP_PORT", "8080", "port"},
                                           {"CQRS_PG_URL", "", "url"},
                                           {"CQRS_STREAM", "", "stream", spec_kind::positional},
                                           {"CQRS_TTL", "", "seconds", spec_kind::option}};
  const char* env[] = {"CQRS_HTTP_PORT=http", "CQRS_TTL=5", nullptr};
  const char* none[] = {"prog", nullptr};
  const auto from_env = settings_source::from_command_line(1, none, env, specs);
  CHECK(message_of([&] { from_env.integer("CQRS_HTTP_PORT", 8080, 1, 65535); }) ==
        "CQRS_HTTP_PORT: expected an integer from 1 to 65535, got 'http'");

  const char* flags[] = {"prog", "bad stream", "--http-port", "port", "--ttl", "soon", nullptr};
  const auto given = settings_source::from_command_line(6, flags, env, specs);
  CHECK(message_of([&] { given.integer("CQRS_HTTP_PORT", 8080, 1, 65535); }) ==
        "--http-port: expected an integer from 1 to 65535, got 'port'");
  CHECK(message_of([&] { given.integer("CQRS_TTL", 60, 1, 3600); }) ==
        "--ttl: expected an integer from 1 to 3600, got 'soon'");
  // A subcommand blames a spec by its key; named() turns that into what was typed.
  CHECK(std::string(given.named(config_error("CQRS_STREAM", "is not a stream name")).what()) ==
        "--stream: is not a stream name");
  CHECK(std::string(given.named(config_error("command line", "give --at or --version")).what()) ==
        "command line: give --at or --version");

  // Missing: a setting can come either way, a flag-only spec only as its flag.
  CHECK(message_of([&] { from_env.required_text("CQRS_PG_URL"); }) ==
        "CQRS_PG_URL (or --pg-url): is required but not set");
  CHECK(message_of([&] { from_env.required_text("CQRS_STREAM"); }) == "--stream: is required but not set");
  // CQRS_TTL is in the environment but never read from it: an error about it names the flag.
  CHECK(std::string(from_env.named(config_error("CQRS_TTL", "is required")).what()) == "--ttl: is required");
}
