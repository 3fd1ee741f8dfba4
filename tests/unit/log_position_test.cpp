#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/log_position.hpp"

using cqrs::core::errc;
using cqrs::core::log_position;

TEST_CASE("a log position token is 32 lowercase hex digits: 16 for the xid, 16 for seq") {
  CHECK(log_position{0x2d5, 1}.token() == "00000000000002d50000000000000001");
  CHECK(log_position{}.token() == std::string(32, '0'));
  CHECK(log_position{UINT64_MAX, UINT64_MAX}.token() == std::string(32, 'f'));
}

TEST_CASE("tokens parse back to the same position, and the empty token is the beginning") {
  const log_position p{123456789, 987654321};
  CHECK(log_position::parse(p.token()).value() == p);
  CHECK(log_position::parse("").value() == log_position{});
  CHECK(log_position::parse("").value().is_beginning());
  CHECK(log_position::parse(std::string(32, '0')).value().is_beginning());
}

TEST_CASE("malformed tokens are refused as values") {
  for (const std::string& bad : std::vector<std::string>{"0", std::string(31, '0'), std::string(33, '0'), std::string(32, 'g'),
                                "00000000000002D50000000000000001", " 0000000000002d50000000000000001",
                                "-0000000000002d50000000000000001"}) {
    CAPTURE(bad);
    const auto parsed = log_position::parse(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.code() == errc::invalid_log_position);
  }
}

TEST_CASE("tokens compare as strings exactly as positions compare: by xid, then seq") {
  std::mt19937_64 rng(42);
  std::vector<log_position> positions{{0, 0}, {1, 0}, {0, 1}, {1, 2}, {2, 1}, {UINT64_MAX, 0}, {0, UINT64_MAX}};
  for (int i = 0; i < 200; ++i) positions.emplace_back(rng() % 1000, rng());
  int disagreements = 0;
  for (const auto& a : positions) {
    for (const auto& b : positions) {
      disagreements += (a < b) != (a.token() < b.token()) || (a == b) != (a.token() == b.token());
    }
  }
  CHECK(disagreements == 0);
  CHECK(log_position{725, 2} < log_position{726, 1});  // the counterexample, in log order
}
