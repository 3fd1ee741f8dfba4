#include "core/log.hpp"

#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace cqrs::core {

log_level parse_log_level(std::string_view text) {
  if (text == "debug") return log_level::debug;
  if (text == "info") return log_level::info;
  if (text == "warn") return log_level::warn;
  if (text == "error") return log_level::error;
  throw std::invalid_argument("expected one of debug, info, warn, error");
}

std::string_view to_string(log_level level) {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  std::abort();
}

namespace {

bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

// The time to the second, formatted once per second per thread: the gateway writes a line per
// request, and formatting the time with fmt's chrono parser was a visible part of its CPU.
std::string_view utc_now() {
  thread_local std::time_t formatted_second = -1;
  thread_local std::string text;
  const auto second = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (second != formatted_second) {
    text = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(second));
    formatted_second = second;
  }
  return text;
}

void append_logfmt_value(std::string& out, std::string_view value) {
  if (!needs_quotes(value)) {
    out.append(value);
    return;
  }
  out += '"';
  for (unsigned char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace

std::string logfmt_value(std::string_view value) {
  std::string out;
  append_logfmt_value(out, value);
  return out;
}

// Appended piece by piece, not with fmt::format per field: a line per request makes this hot.
std::string format_log_line(std::string_view time, log_level level, std::string_view component,
                            std::string_view message, std::initializer_list<log_field> fields) {
  std::string line;
  line.reserve(160);
  line.append("time=").append(time).append(" level=").append(to_string(level)).append(" component=");
  append_logfmt_value(line, component);
  line.append(" msg=");
  append_logfmt_value(line, message);
  for (const auto& field : fields) {
    line += ' ';
    line.append(field.key).append("=");
    append_logfmt_value(line, field.value);
  }
  return line;
}

logger::logger(std::string component, log_level threshold, int fd)
    : component_(std::move(component)), threshold_(threshold), fd_(fd) {}

logger logger::child(std::string component) const {
  logger out(std::move(component), threshold_, fd_);
  out.buffer_ = buffer_;
  return out;
}

logger logger::buffered(std::shared_ptr<log_buffer> buffer) const {
  logger out = *this;
  out.buffer_ = std::move(buffer);
  return out;
}

void logger::debug(std::string_view m, std::initializer_list<log_field> f) const { write(log_level::debug, m, f); }
void logger::info(std::string_view m, std::initializer_list<log_field> f) const { write(log_level::info, m, f); }
void logger::warn(std::string_view m, std::initializer_list<log_field> f) const { write(log_level::warn, m, f); }
void logger::error(std::string_view m, std::initializer_list<log_field> f) const { write(log_level::error, m, f); }

void logger::write(log_level level, std::string_view message, std::initializer_list<log_field> fields) const {
  if (!enabled(level)) return;
  std::string line = format_log_line(utc_now(), level, component_, message, fields);
  line += '\n';
  if (buffer_) {
    buffer_->append(line);
    return;
  }
  // One write per line keeps concurrent lines whole; a failed log write is not worth dying for.
  [[maybe_unused]] const auto written = ::write(fd_, line.data(), line.size());
}

log_buffer::log_buffer(int fd, std::size_t capacity, std::chrono::milliseconds flush_every)
    : fd_(fd), capacity_(capacity), flush_every_(flush_every), flusher_([this](std::stop_token stop) {
        std::unique_lock lock(mutex_);
        while (!stop.stop_requested()) {
          wake_.wait_for(lock, stop, flush_every_, [] { return false; });
          std::string out;
          out.swap(pending_);
          lock.unlock();
          write_out(out);
          lock.lock();
        }
      }) {}

log_buffer::~log_buffer() {
  flusher_.request_stop();
  flusher_.join();
  flush();
}

void log_buffer::append(std::string_view line) {
  std::string out;
  {
    const std::lock_guard lock(mutex_);
    pending_.append(line);
    if (pending_.size() < capacity_) return;
    out.swap(pending_);
  }
  write_out(out);
}

void log_buffer::flush() {
  std::string out;
  {
    const std::lock_guard lock(mutex_);
    out.swap(pending_);
  }
  write_out(out);
}

// Whole lines only, in as few write(2) calls as the fd takes; a failed log write is not worth
// dying for.
void log_buffer::write_out(std::string& pending) {
  for (std::size_t done = 0; done < pending.size();) {
    const auto written = ::write(fd_, pending.data() + done, pending.size() - done);
    if (written <= 0) return;
    done += static_cast<std::size_t>(written);
  }
}

}  // namespace cqrs::core
