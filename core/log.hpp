#pragma once

// One structured logging facility for every process: logfmt lines
// (`time=... level=... component=... msg="..." key=value`) written to stderr.
//
// Written by hand rather than with spdlog: spdlog formats a message, not
// key/value fields, and we need logfmt quoting of every value so that log
// lines stay machine-parseable. Each line is emitted with a single write(2),
// so lines from several threads or processes never interleave.

#include <chrono>
#include <condition_variable>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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

// Lines kept in memory and written together, at the latest every `flush_every` or once
// `capacity` bytes wait, and on destruction: for a line per request (the gateway's access log),
// where a write(2) per line cost ~5 % of a cached GET. Lines stay whole (only whole lines are
// written); a crash loses at most the last `flush_every` of them.
class log_buffer {
 public:
  explicit log_buffer(int fd = 2, std::size_t capacity = 64 * 1024,
                      std::chrono::milliseconds flush_every = std::chrono::milliseconds{100});
  ~log_buffer();
  log_buffer(const log_buffer&) = delete;
  log_buffer& operator=(const log_buffer&) = delete;

  // `line` ends with its newline.
  void append(std::string_view line);
  void flush();

 private:
  void write_out(std::string& pending);

  int fd_;
  std::size_t capacity_;
  std::chrono::milliseconds flush_every_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::string pending_;
  std::jthread flusher_;  // last: starts once everything above exists
};

class logger {
 public:
  // `fd` is where lines go (stderr by default); tests pass a pipe.
  explicit logger(std::string component, log_level threshold = log_level::info, int fd = 2);

  logger child(std::string component) const;
  // The same logger writing through `buffer` (shared; the logger keeps it alive).
  logger buffered(std::shared_ptr<log_buffer> buffer) const;

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
  std::shared_ptr<log_buffer> buffer_;  // null: a write(2) per line
};

}  // namespace cqrs::core
