#include "projections/history.hpp"

#include <cctype>
#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "schemas/contracts/catalog.hpp"

namespace cqrs::projections {

namespace {

// Reads `width` digits at `pos`; nothing when they are not all digits.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + width, value);
  if (ec != std::errc{} || end != text.data() + pos + width) return std::nullopt;
  return value;
}

std::optional<std::chrono::sys_days> parse_date(std::string_view text) {
  const auto y = digits(text, 0, 4), m = digits(text, 5, 2), d = digits(text, 8, 2);
  if (!y || !m || !d || text[4] != '-' || text[7] != '-') return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(*m)},
                                         std::chrono::day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date};
}

// ".123" -> 123000 microseconds; the fraction ends at the first non-digit.
std::optional<std::pair<std::int64_t, std::size_t>> parse_fraction(std::string_view text, std::size_t pos) {
  if (pos >= text.size() || text[pos] != '.') return std::pair<std::int64_t, std::size_t>{0, pos};
  std::int64_t micros = 0;
  std::size_t n = 0;
  for (++pos; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0; ++pos, ++n) {
    if (n < 6) micros = micros * 10 + (text[pos] - '0');
  }
  if (n == 0) return std::nullopt;
  for (; n < 6; ++n) micros *= 10;
  return std::pair{micros, pos};
}

}  // namespace

std::optional<core::timestamp> parse_timestamp(std::string_view text) {
  const auto day = text.size() >= 10 ? parse_date(text) : std::nullopt;
  if (!day) return std::nullopt;
  if (text.size() == 10) return core::timestamp{*day};
  const auto h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
  if (text[10] != 'T' || !h || !mi || !s || text[13] != ':' || text[16] != ':' || *h > 23 || *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  const auto fraction = parse_fraction(text, 19);
  if (!fraction) return std::nullopt;
  const auto zone = text.substr(fraction->second);
  if (zone != "Z" && zone != "+00:00") return std::nullopt;
  return core::timestamp{*day} + std::chrono::hours{*h} + std::chrono::minutes{*mi} + std::chrono::seconds{*s} +
         std::chrono::microseconds{fraction->first};
}

std::string format_timestamp(core::timestamp at) {
  const auto day = std::chrono::floor<std::chrono::days>(at);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{at - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count(), time.subseconds().count());
}

boost::json::object event_to_json(const core::recorded_event& event) {
  boost::json::object out;
  out["position"] = event.position.token();
  out["stream"] = event.stream.str();
  out["version"] = event.version.value();
  out["event_id"] = event.id.to_string();
  out["type"] = event.type;
  out["schema_version"] = event.schema_version;
  out["recorded_at"] = format_timestamp(event.recorded_at);
  boost::json::object metadata;
  if (event.metadata.command_id) metadata["command_id"] = *event.metadata.command_id;
  if (event.metadata.correlation_id) metadata["correlation_id"] = *event.metadata.correlation_id;
  if (event.metadata.causation_id) metadata["causation_id"] = *event.metadata.causation_id;
  if (event.metadata.actor) metadata["actor"] = *event.metadata.actor;
  out["metadata"] = std::move(metadata);
  try {
    out["data"] = schemas::stored_event_to_json(event.type, event.schema_version, event.payload).at("data");
  } catch (const std::exception& e) {
    out["data"] = nullptr;
    out["error"] = e.what();
  }
  return out;
}

}  // namespace cqrs::projections
