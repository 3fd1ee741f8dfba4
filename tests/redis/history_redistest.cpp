#include <doctest/doctest.h>

#include "projections/history.hpp"

using cqrs::projections::format_timestamp;
using cqrs::projections::parse_timestamp;

TEST_CASE("times parse in ISO 8601 UTC and print back the same way") {
  const auto t = parse_timestamp("2026-01-31T12:34:56.123456Z");
  REQUIRE(t.has_value());
  CHECK(format_timestamp(*t) == "2026-01-31T12:34:56.123456Z");
  CHECK(format_timestamp(parse_timestamp("2026-01-31T12:34:56+00:00").value()) == "2026-01-31T12:34:56.000000Z");
  CHECK(format_timestamp(parse_timestamp("2026-01-31T12:34:56.5Z").value()) == "2026-01-31T12:34:56.500000Z");
  CHECK(format_timestamp(parse_timestamp("2026-02-01").value()) == "2026-02-01T00:00:00.000000Z");
}

TEST_CASE("anything else is not a time") {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-01-31T25:00:00Z", "2026-01-31T12:00:00",
                          "2026-01-31T12:00:00+02:00", "2026-01-31T12:00:00.Z", "2026-01-31 12:00:00Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_timestamp(bad).has_value());
  }
}
