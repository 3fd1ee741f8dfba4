#include "commands/relay/message_format.hpp"

#include <charconv>

#include <fmt/format.h>

namespace cqrs::commands::relay {

namespace {

// 8-4-4-4-12 lowercase hex, as core::event_id::to_string writes it.
char* format_uuid(char* out, const core::event_id::bytes_type& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
    *out++ = digits[bytes[i] >> 4];
    *out++ = digits[bytes[i] & 0x0f];
  }
  return out;
}

// The position's token (core::log_position::token): 16 hex digits of xid, then 16 of seq.
char* format_token(char* out, const core::log_position& position) {
  return fmt::format_to(out, "{:016x}{:016x}", position.xid(), position.seq());
}

template <typename Number>
char* format_number(char* out, Number number) {
  return std::to_chars(out, out + 20, number).ptr;
}

}  // namespace

event_headers::event_headers(const core::recorded_event& event) {
  add_formatted(header::event_id, [&](char* out) { return format_uuid(out, event.id.bytes()); });
  add(header::event_type, event.type);
  add_formatted(header::schema_version, [&](char* out) { return format_number(out, event.schema_version); });
  add(header::stream_id, event.stream.str());
  add_formatted(header::stream_version, [&](char* out) { return format_number(out, event.version.value()); });
  add_formatted(header::log_position, [&](char* out) { return format_token(out, event.position); });
  add_formatted(header::recorded_at,
                [&](char* out) { return format_number(out, event.recorded_at.time_since_epoch().count()); });
  if (event.metadata.correlation_id) add(header::correlation_id, *event.metadata.correlation_id);
  if (event.metadata.causation_id) add(header::causation_id, *event.metadata.causation_id);
}

void event_headers::add(std::string_view name, std::string_view value) { headers_[count_++] = {name, value}; }

// `format` writes at most 36 characters (a UUID; numbers take at most 20) at its argument and
// returns the end.
template <typename Format>
void event_headers::add_formatted(std::string_view name, Format format) {
  char* begin = text_.data() + used_;
  char* end = format(begin);
  used_ = static_cast<std::size_t>(end - text_.data());
  add(name, std::string_view(begin, static_cast<std::size_t>(end - begin)));
}

}  // namespace cqrs::commands::relay
