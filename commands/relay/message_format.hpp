#pragma once

// What one event looks like on the events topic (documented in commands/relay/README.md):
// key = stream id, value = the stored payload bytes unchanged, and the event's identity and
// place in the log as headers, so a consumer needs nothing but the message.

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

#include "core/events.hpp"

namespace cqrs::commands::relay {

// Header names, stable: consumers depend on them.
namespace header {
inline constexpr std::string_view event_id = "event-id";              // UUID, lowercase 8-4-4-4-12
inline constexpr std::string_view event_type = "event-type";
inline constexpr std::string_view schema_version = "schema-version";  // decimal, as stored (not upcast)
inline constexpr std::string_view stream_id = "stream-id";
inline constexpr std::string_view stream_version = "stream-version";  // decimal, from 1
inline constexpr std::string_view log_position = "log-position";      // 32 hex digits, compares in log order
inline constexpr std::string_view recorded_at = "recorded-at";        // decimal microseconds since the Unix epoch
inline constexpr std::string_view correlation_id = "correlation-id";  // only when the event has one
inline constexpr std::string_view causation_id = "causation-id";      // only when the event has one
// A topic-start marker (README "Broker identity"): no key, no value, these two headers only, sent
// to every partition when the relay finds a topic other than the one its checkpoint was made on.
inline constexpr std::string_view topic_start = "topic-start";  // position token: this partition carries every
                                                                 // event after it from here on, none at or before
inline constexpr std::string_view relay_epoch = "relay-epoch";  // names the identity change (32 hex digits)
}  // namespace header

struct message_header {
  std::string_view name;
  std::string_view value;
};

// The headers of one event, in the order above, formatted without allocating (the relay builds
// one set per event). Views into `event` and into this object: both must outlive the use.
class event_headers {
 public:
  explicit event_headers(const core::recorded_event& event);
  event_headers(const event_headers&) = delete;
  event_headers& operator=(const event_headers&) = delete;

  std::span<const message_header> all() const { return {headers_.data(), count_}; }

 private:
  void add(std::string_view name, std::string_view value);
  template <typename Format>
  void add_formatted(std::string_view name, Format format);

  std::array<char, 160> text_{};  // the formatted values: a UUID, a token and three numbers
  std::size_t used_ = 0;
  std::array<message_header, 9> headers_{};
  std::size_t count_ = 0;
};

inline std::string_view key_for(const core::recorded_event& event) { return event.stream.str(); }
inline std::string_view value_for(const core::recorded_event& event) { return event.payload; }

}  // namespace cqrs::commands::relay
