#include "core/kafka_bootstrap.hpp"

#include <fstream>
#include <iterator>

namespace cqrs::core::kafka {

setting_spec bootstrap_file_spec() {
  return {"CQRS_KAFKA_BOOTSTRAP_FILE", "",
          "the embedded broker's bootstrap file: read at every connection, followed when it changes (a restarted "
          "broker's new ports); CQRS_KAFKA_BOOTSTRAP is used while it is missing"};
}


std::string read_bootstrap_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return {};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

bootstrap_source::bootstrap_source(std::string literal, std::filesystem::path file,
                                   std::chrono::milliseconds check_interval)
    : literal_(std::move(literal)), file_(std::move(file)), check_interval_(check_interval) {}

std::string bootstrap_source::current() {
  std::string from_file = file_.empty() ? std::string() : read_bootstrap_file(file_);
  in_use_ = from_file.empty() ? literal_ : std::move(from_file);
  next_check_ = std::chrono::steady_clock::now() + check_interval_;
  return in_use_;
}

bool bootstrap_source::moved() {
  if (file_.empty()) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return false;
  next_check_ = now + check_interval_;
  const auto from_file = read_bootstrap_file(file_);
  return !from_file.empty() && from_file != in_use_;
}

}  // namespace cqrs::core::kafka
