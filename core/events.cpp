#include "core/events.hpp"

#include <charconv>
#include <cstdint>
#include <cstdlib>

namespace cqrs::core {

result<expected_version> expected_version::parse(std::string_view text) {
  if (text == "any") return any();
  if (text == "no_stream") return no_stream();
  if (text == "stream_exists") return stream_exists();
  // Unsigned parsing: a sign ("-0", "+1") is not a form we accept.
  std::uint64_t number = 0;
  const auto end = text.data() + text.size();
  const auto [last, status] = std::from_chars(text.data(), end, number);
  if (text.empty() || status != std::errc{} || last != end || number > std::uint64_t{INT64_MAX}) {
    return make_error(errc::invalid_expected_version,
                      "expected version must be any, no_stream, stream_exists or a non-negative integer");
  }
  return exact(stream_version{static_cast<std::int64_t>(number)});
}

std::string expected_version::to_string() const {
  switch (kind_) {
    case form::any: return "any";
    case form::no_stream: return "no_stream";
    case form::stream_exists: return "stream_exists";
    case form::exact: return std::to_string(version_.value());
  }
  std::abort();
}

}  // namespace cqrs::core
