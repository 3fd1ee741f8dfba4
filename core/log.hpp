#pragma once

// One structured logging facility for every process: logfmt lines
// (`time=... level=... component=... msg="..." key=value`) written to stderr.
//
// Written by hand rather than with spdlog: spdlog formats a message, not
// key/value fields, and we need logfmt quoting of every value so that log
// lines stay machine-parseable. Each line is emitted with a single write(2),
// so lines from several threads or processes never interleave.

#include <initializer_list>
#include <string>
#include <type_traits>
#include <string_view>

namespace cqrs::core {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

// Parses "debug", "info", "warn" or "error"; throws std::invalid_argument otherwise.
log_level parse_log_level(std::string_view text);
std::string_view to_string(log_level level);

struct log_field {
  std::string_view key;
  std::string value;

  log_field(std::string_view k, std::string_view v) : key(k), value(v) {}
  log_field(std::string_view k, const char* v) : key(k), value(v) {}
  log_field(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename Number>
    requires std::is_arithmetic_v<Number>
  log_field(std::string_view k, Number v) : key(k), value(std::to_string(v)) {}
};

// Quotes a logfmt value when it needs it (spaces, quotes, '=', control characters).
std::string logfmt_value(std::string_view value);

// Formats one complete logfmt line (without the trailing newline).
std::string format_log_line(std::string_view time, log_level level, std::string_view component,
                            std::string_view message, std::initializer_list<log_field> fields);

class logger {
 public:
  // `fd` is where lines go (stderr by default); tests pass a pipe.
  explicit logger(std::string component, log_level threshold = log_level::info, int fd = 2);

  logger child(std::string component) const;

  void debug(std::string_view message, std::initializer_list<log_field> fields = {}) const;
  void info(std::string_view message, std::initializer_list<log_field> fields = {}) const;
  void warn(std::string_view message, std::initializer_list<log_field> fields = {}) const;
  void error(std::string_view message, std::initializer_list<log_field> fields = {}) const;

  bool enabled(log_level level) const { return level >= threshold_; }

 private:
  void write(log_level level, std::string_view message, std::initializer_list<log_field> fields) const;

  std::string component_;
  log_level threshold_;
  int fd_;
};

}  // namespace cqrs::core
