#include "core/config.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

namespace cqrs::core {

namespace po = boost::program_options;

namespace {

// A setting given neither way, or by code that does not know which: its variable and its flag. A
// name that is not a setting ("command line") as it is.
std::string either_name(const std::string& variable) {
  if (!variable.starts_with("CQRS_")) return variable;
  return fmt::format("{} (or --{})", variable, flag_name(variable));
}

}  // namespace

config_error::config_error(std::string variable, const std::string& problem)
    : config_error(variable, either_name(variable), problem) {}

config_error::config_error(std::string variable, const std::string& shown, const std::string& problem)
    : std::runtime_error(fmt::format("{}: {}", shown, problem)), variable_(std::move(variable)), problem_(problem) {}

std::string flag_name(std::string_view env_name) {
  std::string_view rest = env_name;
  if (rest.starts_with("CQRS_")) rest.remove_prefix(5);
  std::string flag;
  for (char c : rest) flag += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return flag;
}

settings_source::settings_source(std::map<std::string, std::string> env, std::map<std::string, std::string> flags)
    : env_(std::move(env)), flags_(std::move(flags)) {}

settings_source::settings_source(std::map<std::string, std::string> env, std::map<std::string, std::string> flags,
                                 const std::vector<setting_spec>& specs)
    : settings_source(std::move(env), std::move(flags)) {
  for (const auto& spec : specs) {
    if (spec.kind != spec_kind::setting) flag_only_.push_back(spec.env);
  }
}

namespace {

std::map<std::string, std::string> environment_map(const char* const* envp) {
  std::map<std::string, std::string> env;
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    std::string_view entry(*envp);
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

po::options_description flag_description(const std::vector<setting_spec>& specs) {
  po::options_description description;
  description.add_options()("help,h", "show this help");
  for (const auto& spec : specs) {
    const auto name = flag_name(spec.env);
    if (spec.kind == spec_kind::flag) {
      description.add_options()(name.c_str(), po::bool_switch(), spec.help.c_str());
    } else {
      description.add_options()(name.c_str(), po::value<std::string>(), spec.help.c_str());
    }
  }
  return description;
}

po::positional_options_description positional_description(const std::vector<setting_spec>& specs) {
  po::positional_options_description positional;
  for (const auto& spec : specs) {
    if (spec.kind == spec_kind::positional) positional.add(flag_name(spec.env).c_str(), 1);
  }
  return positional;
}

// The value a parsed flag stands for: switches read "true" when given and are absent otherwise.
std::optional<std::string> flag_value(const po::variables_map& parsed, const setting_spec& spec) {
  const auto name = flag_name(spec.env);
  if (parsed.count(name) == 0) return std::nullopt;
  if (spec.kind == spec_kind::flag) {
    return parsed[name].as<bool>() ? std::optional<std::string>("true") : std::nullopt;
  }
  return parsed[name].as<std::string>();
}

}  // namespace

settings_source settings_source::from_command_line(int argc, const char* const* argv, const char* const* envp,
                                                   const std::vector<setting_spec>& specs) {
  po::variables_map parsed;
  // No guessing: `--al` must not silently stand for `--all` (or for whichever flag a later
  // release adds with the same prefix).
  const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  try {
    po::store(po::command_line_parser(argc, argv)
                  .options(flag_description(specs))
                  .positional(positional_description(specs))
                  .style(style)
                  .run(),
              parsed);
  } catch (const po::error& e) {
    throw config_error("command line", e.what());
  }
  std::map<std::string, std::string> flags;
  for (const auto& spec : specs) {
    if (auto value = flag_value(parsed, spec)) flags.emplace(spec.env, std::move(*value));
  }
  settings_source source(environment_map(envp), std::move(flags), specs);
  source.help_ = parsed.count("help") != 0;
  return source;
}

std::optional<std::string> settings_source::raw(std::string_view env_name) const {
  const std::string key(env_name);
  if (from_flag(key)) return flags_.at(key);
  if (flag_only(key)) return std::nullopt;
  if (auto it = env_.find(key); it != env_.end() && !it->second.empty()) return it->second;
  return std::nullopt;
}

bool settings_source::from_flag(const std::string& key) const {
  const auto it = flags_.find(key);
  return it != flags_.end() && !it->second.empty();
}

bool settings_source::flag_only(const std::string& key) const {
  return std::find(flag_only_.begin(), flag_only_.end(), key) != flag_only_.end();
}

std::string settings_source::given_as(std::string_view env_name) const {
  const std::string key(env_name);
  if (!key.starts_with("CQRS_")) return key;
  if (from_flag(key) || flag_only(key)) return "--" + flag_name(key);
  if (raw(key)) return key;
  return either_name(key);
}

config_error settings_source::named(const config_error& error) const {
  return config_error(error.variable(), given_as(error.variable()), error.problem());
}

config_error settings_source::error(std::string_view env_name, const std::string& problem) const {
  return config_error(std::string(env_name), given_as(env_name), problem);
}

std::string settings_source::text(std::string_view env_name, std::string_view fallback) const {
  return raw(env_name).value_or(std::string(fallback));
}

std::string settings_source::required_text(std::string_view env_name) const {
  auto value = raw(env_name);
  if (!value) throw error(env_name, "is required but not set");
  return *value;
}

std::int64_t settings_source::integer(std::string_view env_name, std::int64_t fallback, std::int64_t min,
                                      std::int64_t max) const {
  const auto value = raw(env_name);
  if (!value) return fallback;
  std::int64_t parsed = 0;
  const auto* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  if (ec != std::errc{} || ptr != end || parsed < min || parsed > max) {
    throw error(env_name, fmt::format("expected an integer from {} to {}, got '{}'", min, max, *value));
  }
  return parsed;
}

bool settings_source::boolean(std::string_view env_name, bool fallback) const {
  const auto value = raw(env_name);
  if (!value) return fallback;
  if (*value == "1" || *value == "true" || *value == "yes" || *value == "on") return true;
  if (*value == "0" || *value == "false" || *value == "no" || *value == "off") return false;
  throw error(env_name, fmt::format("expected true or false, got '{}'", *value));
}

std::chrono::milliseconds settings_source::milliseconds(std::string_view env_name, std::chrono::milliseconds fallback,
                                                        std::chrono::milliseconds min,
                                                        std::chrono::milliseconds max) const {
  return std::chrono::milliseconds(integer(env_name, fallback.count(), min.count(), max.count()));
}

std::string settings_source::url(std::string_view env_name, std::string_view fallback,
                                 std::vector<std::string_view> schemes) const {
  const auto value = text(env_name, fallback);
  const auto colon = value.find("://");
  const auto scheme = colon == std::string::npos ? std::string_view{} : std::string_view(value).substr(0, colon);
  const bool known = std::find(schemes.begin(), schemes.end(), scheme) != schemes.end();
  if (!known || value.size() == colon + 3) {
    throw error(env_name, fmt::format("expected a URL starting with {}://, got '{}'", schemes.front(), value));
  }
  return value;
}

namespace {

std::pair<std::string, std::string> split_pair(std::string_view item, std::string_view variable) {
  const auto eq = item.find('=');
  const auto key = item.substr(0, eq);
  if (eq == std::string_view::npos || key.empty()) {
    throw config_error(std::string(variable), fmt::format("expected key=value, got '{}'", item));
  }
  return {std::string(key), std::string(item.substr(eq + 1))};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

key_values settings_source::pairs(std::string_view env_name) const {
  key_values result;
  const auto value = raw(env_name);
  if (!value) return result;
  std::string_view rest(*value);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = trim(rest.substr(0, comma));
    try {
      if (!item.empty()) result.push_back(split_pair(item, env_name));
    } catch (const config_error& e) {
      throw named(e);
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return result;
}

log_level settings_source::level(std::string_view env_name, log_level fallback) const {
  const auto value = raw(env_name);
  if (!value) return fallback;
  try {
    return parse_log_level(*value);
  } catch (const std::invalid_argument& e) {
    throw error(env_name, fmt::format("{}, got '{}'", e.what(), *value));
  }
}

key_values parse_properties(std::string_view text, std::string_view variable) {
  key_values result;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    const auto item = trim(line);
    if (item.empty() || item.front() == '#') continue;
    auto [key, value] = split_pair(item, variable);
    result.emplace_back(std::string(trim(key)), std::string(trim(value)));
  }
  return result;
}

namespace {

// Where --help says a spec comes from besides its flag.
std::string help_source(const setting_spec& spec) {
  switch (spec.kind) {
    case spec_kind::setting: return spec.env;
    case spec_kind::option: return "(flag only)";
    case spec_kind::flag: return "(switch)";
    case spec_kind::positional: return "(or first argument)";
  }
  std::abort();
}

}  // namespace

std::string settings_help(std::string_view program, std::string_view summary, const std::vector<setting_spec>& specs) {
  std::string out = fmt::format("Usage: {} [--flag value ...]\n{}\n\nSettings (flag, environment variable or kind, default):\n",
                                program, summary);
  for (const auto& spec : specs) {
    out += fmt::format("  --{:<24} {:<28} {}\n      {}\n", flag_name(spec.env), help_source(spec),
                       spec.default_text.empty() ? "(none)" : spec.default_text, spec.help);
  }
  return out;
}

const std::vector<setting_spec>& engine_settings() {
  static const std::vector<setting_spec> specs = {
      {"CQRS_PG_URL", "", "PostgreSQL connection URL (postgresql://user@host:port/db)"},
      {"CQRS_PG_POOL_SIZE", "16", "the gateway's PostgreSQL workers, one connection each; appends made at once commit together (1-256)"},
      {"CQRS_REDIS_URL", "", "Redis URL (redis://host:port/db)"},
      {"CQRS_KAFKA_BOOTSTRAP", "", "Kafka bootstrap.servers (host:port,host:port)"},
      {"CQRS_KAFKA_TOPIC", "events", "Kafka topic that carries the event log"},
      {"CQRS_KAFKA_PROPERTIES", "", "extra librdkafka properties, key=value,key=value (SASL, TLS, ...)"},
      {"CQRS_KAFKA_PROPERTIES_FILE", "", "file of librdkafka properties, one key=value a line"},
      {"CQRS_HTTP_HOST", "127.0.0.1", "address the HTTP gateway listens on"},
      {"CQRS_HTTP_PORT", "8080", "port the HTTP gateway listens on (1-65535)"},
      {"CQRS_HTTP_THREADS", "2", "I/O threads of the HTTP gateway (1-64)"},
      {"CQRS_LOG_LEVEL", "info", "debug, info, warn or error"},
  };
  return specs;
}

kafka_config load_kafka_config(const settings_source& source) {
  kafka_config kafka;
  kafka.bootstrap = source.required_text("CQRS_KAFKA_BOOTSTRAP");
  kafka.topic = source.text("CQRS_KAFKA_TOPIC", kafka.topic);
  if (const auto file = source.raw("CQRS_KAFKA_PROPERTIES_FILE")) {
    std::ifstream in(*file);
    if (!in) throw source.named(config_error("CQRS_KAFKA_PROPERTIES_FILE", fmt::format("cannot read '{}'", *file)));
    std::stringstream content;
    content << in.rdbuf();
    try {
      kafka.properties = parse_properties(content.str(), "CQRS_KAFKA_PROPERTIES_FILE");
    } catch (const config_error& e) {
      throw source.named(e);
    }
  }
  for (auto& pair : source.pairs("CQRS_KAFKA_PROPERTIES")) kafka.properties.push_back(std::move(pair));
  return kafka;
}

engine_config load_engine_config(const settings_source& source) {
  engine_config config;
  config.postgres.url = source.url("CQRS_PG_URL", "", {"postgresql", "postgres"});
  config.postgres.pool_size = static_cast<int>(source.integer("CQRS_PG_POOL_SIZE", config.postgres.pool_size, 1, 256));
  config.redis.url = source.url("CQRS_REDIS_URL", "", {"redis"});
  config.kafka = load_kafka_config(source);
  config.http.host = source.text("CQRS_HTTP_HOST", config.http.host);
  config.http.port = static_cast<std::uint16_t>(source.integer("CQRS_HTTP_PORT", config.http.port, 1, 65535));
  config.http.threads = static_cast<int>(source.integer("CQRS_HTTP_THREADS", config.http.threads, 1, 64));
  config.log = source.level("CQRS_LOG_LEVEL", config.log);
  return config;
}

}  // namespace cqrs::core
