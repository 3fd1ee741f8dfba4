#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/append_validation.hpp"
#include "core/events.hpp"
#include "core/ids.hpp"

using namespace cqrs::core;

TEST_CASE("stream ids are category-id with a URL-safe id") {
  for (const std::string& good : std::vector<std::string>{"account-1", "a-b", "Order_2-x.y~z", "account-abc-def", "x-" + std::string(198, 'i')}) {
    CAPTURE(good);
    const auto parsed = stream_id::parse(good);
    REQUIRE(parsed.ok());
    CHECK(parsed.value().str() == good);
  }
  CHECK(stream_id::parse("account-abc-def").value().category() == "account");
}

TEST_CASE("malformed stream ids are refused as values") {
  for (const std::string& bad : std::vector<std::string>{"", "account", "-1", "1account-1", "account-", "acc ount-1", "account-a b", "account-a/b",
                                "account-ü", "account_-", "x-" + std::string(199, 'i')}) {
    CAPTURE(bad);
    const auto parsed = stream_id::parse(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.code() == errc::invalid_stream_id);
  }
}

TEST_CASE("categories are a letter followed by letters, digits and underscores") {
  CHECK(is_valid_category("account"));
  CHECK(is_valid_category("a_1"));
  CHECK_FALSE(is_valid_category(""));
  CHECK_FALSE(is_valid_category("1a"));
  CHECK_FALSE(is_valid_category("a-b"));
}

TEST_CASE("expected versions parse from any, no_stream, stream_exists or a non-negative integer") {
  CHECK(expected_version::parse("any").value() == expected_version::any());
  CHECK(expected_version::parse("no_stream").value() == expected_version::no_stream());
  CHECK(expected_version::parse("stream_exists").value() == expected_version::stream_exists());
  CHECK(expected_version::parse("12").value() == expected_version::exact(stream_version{12}));
  CHECK(expected_version::parse("0").value() == expected_version::no_stream());
  for (const std::string& bad : std::vector<std::string>{"", "ANY", "-1", "+1", "1.5", "12a", "99999999999999999999", " 1"}) {
    CAPTURE(bad);
    CHECK(expected_version::parse(bad).code() == errc::invalid_expected_version);
  }
  CHECK(expected_version::exact(stream_version{7}).to_string() == "7");
  CHECK(expected_version::any().to_string() == "any");
}

TEST_CASE("generated event ids are version 7: the current time first, so later ids sort after earlier ones") {
  using namespace std::chrono;
  const auto before = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  std::vector<std::string> texts;
  for (int i = 0; i < 2000; ++i) texts.push_back(event_id::generate().to_string());
  const auto after = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  for (const auto& text : texts) {
    CAPTURE(text);
    CHECK(text[14] == '7');
    CHECK(std::string_view("89ab").find(text[19]) != std::string_view::npos);  // RFC variant
    const auto ms = std::stoll(text.substr(0, 8) + text.substr(9, 4), nullptr, 16);
    CHECK(ms >= before);
    CHECK(ms <= after);
  }
  // Time and fraction (the first 18 characters) never go back on one thread; the rest is random.
  for (std::size_t i = 1; i < texts.size(); ++i) CHECK(texts[i].substr(0, 18) >= texts[i - 1].substr(0, 18));
  std::sort(texts.begin(), texts.end());
  CHECK(std::adjacent_find(texts.begin(), texts.end()) == texts.end());
}

TEST_CASE("event ids round-trip through their canonical text") {
  const auto id = event_id::generate();
  const auto text = id.to_string();
  CHECK(text.size() == 36);
  CHECK(event_id::parse(text).value() == id);
  CHECK(event_id::generate() != id);
  CHECK(event_id::parse("not-a-uuid").code() == errc::invalid_event_id);
  CHECK(event_id::parse("123e4567-e89b-12d3-a456-4266141740000").code() == errc::invalid_event_id);
  CHECK(event_id::parse("123E4567-E89B-12D3-A456-426614174000").value().to_string() == "123e4567-e89b-12d3-a456-426614174000");
}

namespace {

append_request request_with(std::vector<new_event> events) {
  return append_request{stream_id::parse("account-1").value(), expected_version::any(), std::move(events)};
}

std::optional<errc> code_of(const append_request& request, const store_limits& limits = {}) {
  const auto failure = check_append(request, limits);
  return failure ? std::optional<errc>(failure->code) : std::nullopt;
}

}  // namespace

TEST_CASE("an append request is checked before anything is sent") {
  CHECK_FALSE(code_of(request_with({new_event{"account.opened", 1, "x"}})).has_value());
  CHECK(code_of(request_with({})) == errc::empty_event_list);
  CHECK(code_of(request_with({new_event{"", 1, "x"}})) == errc::invalid_event_type);
  CHECK(code_of(request_with({new_event{"9lives", 1, "x"}})) == errc::invalid_event_type);
  CHECK(code_of(request_with({new_event{"a b", 1, "x"}})) == errc::invalid_event_type);
  CHECK(code_of(request_with({new_event{std::string(201, 'a'), 1, "x"}})) == errc::invalid_event_type);
  CHECK(code_of(request_with({new_event{"t", 0, "x"}})) == errc::invalid_schema_version);
  CHECK(code_of(request_with({new_event{"t", 1, std::string((1 << 20) + 1, 'x')}})) == errc::payload_too_large);

  store_limits small;
  small.max_append_bytes = 10;
  small.max_events_per_append = 2;
  CHECK(code_of(request_with({new_event{"t", 1, "123456"}, new_event{"t", 1, "123456"}}), small) == errc::append_too_large);
  CHECK(code_of(request_with(std::vector<new_event>(3, new_event{"t", 1, ""})), small) == errc::too_many_events);
}

TEST_CASE("metadata, snapshots and command outcomes are checked too") {
  auto request = request_with({new_event{"t", 1, "x"}});
  request.metadata.actor = "Zoë";
  CHECK_FALSE(code_of(request).has_value());
  request.metadata.actor = std::string("tab\there");
  CHECK(code_of(request) == errc::invalid_metadata);
  request.metadata.actor = std::string("\xc3", 1);  // truncated UTF-8
  CHECK(code_of(request) == errc::invalid_metadata);
  request.metadata.actor.reset();

  request.snapshot = snapshot_write{0, "s"};
  CHECK(code_of(request) == errc::invalid_schema_version);
  request.snapshot.reset();
  request.outcome = command_outcome_write{"", "f", "o"};
  CHECK(code_of(request) == errc::invalid_idempotency_key);
  request.outcome = command_outcome_write{"key", "f", std::string((1 << 20) + 1, 'o')};
  CHECK(code_of(request) == errc::payload_too_large);
  request.expected = expected_version::exact(stream_version{-3});
  CHECK(code_of(request) == errc::invalid_expected_version);
}

TEST_CASE("read batch sizes are bounded") {
  CHECK(check_batch_size(0, {})->code == errc::invalid_batch_size);
  CHECK_FALSE(check_batch_size(1, {}).has_value());
  CHECK_FALSE(check_batch_size(10000, {}).has_value());
  CHECK(check_batch_size(10001, {})->code == errc::invalid_batch_size);
}
