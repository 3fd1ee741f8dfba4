#pragma once

// Command line of cqrs-kafka-broker, validated into a plain struct. Every rejected value raises
// usage_error naming its flag, so main can print it and exit with status 2.

#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.hpp"

namespace cqrs::tools::kafka_broker {

class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct topic_spec {
  std::string name;
  int partitions = 0;
};

struct broker_options {
  int brokers = 3;
  int partitions = 6;
  std::vector<topic_spec> topics;
  std::filesystem::path bootstrap_file;
  core::log_level log_level = core::log_level::info;
};

inline constexpr int max_brokers = 16;
inline constexpr int max_partitions = 1024;

// Parses "name" (taking `default_partitions`) or "name:partitions".
topic_spec parse_topic_spec(std::string_view text, int default_partitions);

// Returns nothing when --help was asked for; the help text has then been written to `help_out`.
std::optional<broker_options> parse_broker_options(int argc, const char* const* argv, std::ostream& help_out);

}  // namespace cqrs::tools::kafka_broker
