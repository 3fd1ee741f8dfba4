#pragma once

// Where a Kafka client (the relay, the projector) finds the brokers. A literal list (CQRS_KAFKA_BOOTSTRAP: a real cluster, whose
// addresses do not change) is used as it is. The embedded broker listens on new random ports at
// every start and publishes them in its bootstrap file (written whole, by rename), so with
// CQRS_KAFKA_BOOTSTRAP_FILE set the relay reads the list from the file, and notices when a
// restarted broker has written another one: librdkafka would otherwise try the dead ports forever.

#include <chrono>
#include <filesystem>
#include <string>

#include "core/config.hpp"

namespace cqrs::core::kafka {

// CQRS_KAFKA_BOOTSTRAP_FILE, for the --help of the processes that read it.
setting_spec bootstrap_file_spec();

// The file's content without surrounding white space; empty when it is missing or unreadable.
std::string read_bootstrap_file(const std::filesystem::path& file);

class bootstrap_source {
 public:
  // `file` may be empty: then the literal is all there is.
  bootstrap_source(std::string literal, std::filesystem::path file,
                   std::chrono::milliseconds check_interval = std::chrono::milliseconds{500});

  // The list to connect to now: the file's, else (no file set, or not written yet) the literal.
  // Remembered as the list in use.
  std::string current();

  // Whether the file now names another list than the one in use. Reads the file at most once per
  // check interval. A missing or empty file is a broker (re)starting: not a move yet.
  bool moved();

 private:
  std::string literal_;
  std::filesystem::path file_;
  std::chrono::milliseconds check_interval_;
  std::string in_use_;
  std::chrono::steady_clock::time_point next_check_{};
};

}  // namespace cqrs::core::kafka
