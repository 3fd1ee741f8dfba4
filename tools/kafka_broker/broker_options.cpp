#include "tools/kafka_broker/broker_options.hpp"

#include <algorithm>
#include <charconv>

#include <boost/program_options.hpp>
#include <fmt/format.h>

namespace cqrs::tools::kafka_broker {

namespace po = boost::program_options;

namespace {

constexpr std::string_view summary =
    "Usage: cqrs-kafka-broker --bootstrap-file PATH [options]\n"
    "\n"
    "Hosts librdkafka's mock Kafka cluster on 127.0.0.1 (random ports) for tests and local runs.\n"
    "Once the topics exist, the bootstrap list (host:port,...) is written atomically to\n"
    "--bootstrap-file (any stale file there is removed first, so a reader can wait for it).\n"
    "\n"
    "Signals:\n"
    "  SIGTERM, SIGINT  remove the bootstrap file, destroy the cluster, exit 0\n"
    "  SIGUSR1          take every broker down (clients see connection failures)\n"
    "  SIGUSR2          bring every broker back up\n"
    "\n"
    "Exit status: 0 after a signalled shutdown, 1 on a start-up failure, 2 on a bad flag.\n";

po::options_description describe_flags() {
  po::options_description flags("Options");
  flags.add_options()
      ("help,h", "show this help")
      ("brokers", po::value<int>()->default_value(3), "number of brokers, 1..16 (ids 1..N)")
      ("partitions", po::value<int>()->default_value(6),
       "partitions of each --topic given without a count, 1..1024")
      ("topic", po::value<std::vector<std::string>>()->composing(),
       "topic to create, NAME or NAME:PARTITIONS; repeatable (default: events)")
      ("bootstrap-file", po::value<std::string>()->required(), "where to write the bootstrap list (required)")
      ("log-level", po::value<std::string>()->default_value("info"), "debug, info, warn or error");
  return flags;
}

int int_in_range(const po::variables_map& values, const char* flag, int min, int max) {
  const int value = values[flag].as<int>();
  if (value < min || value > max) {
    throw usage_error(fmt::format("--{} must be between {} and {} (got {})", flag, min, max, value));
  }
  return value;
}

// Kafka's own rule for topic names, so a bad name fails here and not inside the mock cluster.
bool legal_topic_name(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

int parse_partition_count(std::string_view text, std::string_view spec) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < 1 || value > max_partitions) {
    throw usage_error(fmt::format("--topic {}: partitions must be an integer between 1 and {}", spec,
                                  max_partitions));
  }
  return value;
}

std::vector<topic_spec> topics_from(const po::variables_map& values, int default_partitions) {
  std::vector<std::string> texts{"events"};
  if (values.count("topic") != 0) texts = values["topic"].as<std::vector<std::string>>();
  std::vector<topic_spec> topics;
  for (const auto& text : texts) {
    topic_spec topic = parse_topic_spec(text, default_partitions);
    const bool duplicate =
        std::any_of(topics.begin(), topics.end(), [&](const topic_spec& t) { return t.name == topic.name; });
    if (duplicate) throw usage_error(fmt::format("--topic {}: given more than once", topic.name));
    topics.push_back(std::move(topic));
  }
  return topics;
}

core::log_level log_level_from(const po::variables_map& values) {
  try {
    return core::parse_log_level(values["log-level"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw usage_error(fmt::format("--log-level: {}", e.what()));
  }
}

broker_options validate(const po::variables_map& values) {
  broker_options options;
  options.brokers = int_in_range(values, "brokers", 1, max_brokers);
  options.partitions = int_in_range(values, "partitions", 1, max_partitions);
  options.topics = topics_from(values, options.partitions);
  options.bootstrap_file = values["bootstrap-file"].as<std::string>();
  if (options.bootstrap_file.filename().empty()) {
    throw usage_error("--bootstrap-file must name a file, not a directory");
  }
  options.log_level = log_level_from(values);
  return options;
}

}  // namespace

topic_spec parse_topic_spec(std::string_view text, int default_partitions) {
  const auto colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  if (!legal_topic_name(name)) {
    throw usage_error(fmt::format("--topic {}: a name is 1 to 249 characters of [A-Za-z0-9._-]", text));
  }
  if (colon == std::string_view::npos) return topic_spec{std::string(name), default_partitions};
  return topic_spec{std::string(name), parse_partition_count(text.substr(colon + 1), text)};
}

std::optional<broker_options> parse_broker_options(int argc, const char* const* argv, std::ostream& help_out) {
  const po::options_description flags = describe_flags();
  po::variables_map values;
  try {
    // An empty positional description makes stray words an error instead of silently ignored.
    const po::positional_options_description no_positionals;
    po::store(po::command_line_parser(argc, argv).options(flags).positional(no_positionals).run(), values);
    if (values.count("help") != 0) {
      help_out << summary << '\n' << flags;
      return std::nullopt;
    }
    // notify() only after --help, so --help works without the required --bootstrap-file.
    po::notify(values);
  } catch (const po::error& e) {
    // Boost's messages already name the flag ("the argument ('x') for option '--brokers' is invalid").
    throw usage_error(e.what());
  }
  return validate(values);
}

}  // namespace cqrs::tools::kafka_broker
