#pragma once

// Configuration: environment variables, overridden by command-line flags, validated into plain
// structs. Every setting has one environment name (CQRS_HTTP_PORT) and one flag derived from it
// (--http-port). A wrong value raises config_error naming what the operator gave (the flag or the
// variable), so start-up stops with a message an operator can act on.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/log.hpp"

namespace cqrs::core {

class config_error : public std::runtime_error {
 public:
  // For code that does not know how the value was given: named by its variable and its flag.
  config_error(std::string variable, const std::string& problem);
  // Named as the user gave it: `shown` is "--stream" for a flag, "CQRS_HTTP_PORT" for a variable.
  config_error(std::string variable, const std::string& shown, const std::string& problem);
  // The spec's key (CQRS_HTTP_PORT), whichever way it was given.
  const std::string& variable() const { return variable_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string variable_;
  std::string problem_;
};

// How a spec is given. Settings come from the environment or a flag; the arguments of one command
// line (what to replay, which projection to rebuild) are flags only, never read from the
// environment, where a stray CQRS_ALL=true would silently widen an operator's command.
enum class spec_kind {
  setting,     // CQRS_NAME in the environment, or --name VALUE
  option,      // --name VALUE only
  flag,        // --name, a switch without a value (reads as "true")
  positional,  // the first bare argument, or --name VALUE
};

// A documented setting: its name (an environment variable for settings; the key of the flag
// for the others), default shown in --help, meaning and kind.
struct setting_spec {
  std::string env;
  std::string default_text;
  std::string help;
  spec_kind kind = spec_kind::setting;
};

// CQRS_HTTP_PORT -> http-port
std::string flag_name(std::string_view env_name);

using key_values = std::vector<std::pair<std::string, std::string>>;

class settings_source {
 public:
  settings_source(std::map<std::string, std::string> env, std::map<std::string, std::string> flags);
  settings_source(std::map<std::string, std::string> env, std::map<std::string, std::string> flags,
                  const std::vector<setting_spec>& specs);

  // Reads flags (`--name value` or `--name=value`) for the given specs from argv and the
  // variables from `envp`. Throws config_error for unknown flags or a missing flag value.
  static settings_source from_command_line(int argc, const char* const* argv, const char* const* envp,
                                           const std::vector<setting_spec>& specs);

  // The flag if given, else the environment variable, else nothing. Empty values count as unset.
  std::optional<std::string> raw(std::string_view env_name) const;

  // What the user typed for a spec, for error messages: "--http-port" when given as a flag (or
  // when only a flag can give it), "CQRS_HTTP_PORT" when read from the environment, both when
  // neither gave it. A name that is not a CQRS_ variable ("command line") is returned as it is.
  std::string given_as(std::string_view env_name) const;
  // `error` named as the user gave its value.
  config_error named(const config_error& error) const;

  std::string text(std::string_view env_name, std::string_view fallback) const;
  std::string required_text(std::string_view env_name) const;
  std::int64_t integer(std::string_view env_name, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  bool boolean(std::string_view env_name, bool fallback) const;
  std::chrono::milliseconds milliseconds(std::string_view env_name, std::chrono::milliseconds fallback,
                                         std::chrono::milliseconds min, std::chrono::milliseconds max) const;
  // A URL whose scheme is one of `schemes` (e.g. {"postgresql", "postgres"}).
  std::string url(std::string_view env_name, std::string_view fallback, std::vector<std::string_view> schemes) const;
  // "key=value,key=value"; an empty key or a missing '=' is an error.
  key_values pairs(std::string_view env_name) const;
  log_level level(std::string_view env_name, log_level fallback) const;

  bool help_requested() const { return help_; }

 private:
  bool from_flag(const std::string& key) const;
  bool flag_only(const std::string& key) const;
  config_error error(std::string_view env_name, const std::string& problem) const;

  std::map<std::string, std::string> env_;
  std::map<std::string, std::string> flags_;
  std::vector<std::string> flag_only_;  // names never read from the environment
  bool help_ = false;
};

// Renders `--help` text for a set of settings.
std::string settings_help(std::string_view program, std::string_view summary, const std::vector<setting_spec>& specs);

// Parses a Java-style properties text (key=value lines, '#' comments); errors name `variable`.
key_values parse_properties(std::string_view text, std::string_view variable);

struct postgres_config {
  std::string url;
  // 16, not 8: the gateway's pool threads are also its group commit's members, and with 16 a
  // restock run at 32 connections formed larger groups: 4,971 commands/s against 3,898, and
  // ~340 µs of the whole stack's CPU per command against ~410 (tools/bench gateway).
  int pool_size = 16;
};

struct redis_config {
  std::string url;
};

struct kafka_config {
  std::string bootstrap;
  std::string topic = "events";
  // Passed through verbatim to librdkafka (security.protocol, sasl.*, ssl.*, ...), so a real
  // cluster is a configuration change and never a code change.
  key_values properties;
};

struct http_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 2;
};

struct engine_config {
  postgres_config postgres;
  redis_config redis;
  kafka_config kafka;
  http_config http;
  log_level log = log_level::info;
};

// Every setting the engine's processes read; the single list behind --help and the README.
const std::vector<setting_spec>& engine_settings();

// The Kafka part alone, for processes that need Kafka but not every other service (the relay).
kafka_config load_kafka_config(const settings_source& source);

engine_config load_engine_config(const settings_source& source);

}  // namespace cqrs::core
