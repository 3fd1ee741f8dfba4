#include <doctest/doctest.h>

#include "gateway/json_body.hpp"

using cqrs::gateway::check_json_body_text;
using verdict = cqrs::gateway::json_body_check::verdict;

TEST_CASE("a JSON body is an object whose objects name each member once") {
  CHECK(check_json_body_text(R"({"quantity":1})").outcome == verdict::object);
  CHECK(check_json_body_text(" {} ").outcome == verdict::object);
  // The same name in different objects, or as a string value, is no duplicate.
  CHECK(check_json_body_text(R"({"a":{"a":1},"b":[{"a":1},{"a":2}],"c":"a"})").outcome == verdict::object);
  CHECK(check_json_body_text("[1]").outcome == verdict::not_object);
  CHECK(check_json_body_text(R"("text")").outcome == verdict::not_object);
  CHECK(check_json_body_text("12").outcome == verdict::not_object);
  CHECK(check_json_body_text("").outcome == verdict::invalid);
  CHECK(check_json_body_text(R"({"a":)").outcome == verdict::invalid);
  CHECK(check_json_body_text(R"({"a":1} {})").outcome == verdict::invalid);
}

TEST_CASE("a duplicate member is named by its path through the enclosing objects") {
  const auto top = check_json_body_text(R"({"quantity":1,"quantity":1000})");
  CHECK(top.outcome == verdict::duplicate_member);
  CHECK(top.member == "quantity");
  const auto nested = check_json_body_text(R"({"sku":"X","price":{"amount":1,"currency":"EUR","amount":2}})");
  CHECK(nested.outcome == verdict::duplicate_member);
  CHECK(nested.member == "price.amount");
  const auto in_array = check_json_body_text(R"({"lines":[{"sku":"a"},{"sku":"b","sku":"c"}]})");
  CHECK(in_array.outcome == verdict::duplicate_member);
  CHECK(in_array.member == "lines[].sku");
  // Escapes are compared decoded: "\u0061" is "a".
  const auto escaped = check_json_body_text(R"({"a":1,"\u0061":2})");
  CHECK(escaped.outcome == verdict::duplicate_member);
  CHECK(escaped.member == "a");
}

TEST_CASE("a NUL character in any string or member name is refused, naming where it is") {
  const auto value = check_json_body_text(R"({"name":"a\u0000b"})");
  CHECK(value.outcome == verdict::nul_character);
  CHECK(value.member == "name");
  const auto nested = check_json_body_text(R"({"price":{"amount":1,"currency":"E\u0000R"}})");
  CHECK(nested.outcome == verdict::nul_character);
  CHECK(nested.member == "price.currency");
  const auto in_array = check_json_body_text(R"({"lines":[{"sku":"a"},{"sku":"\u0000"}]})");
  CHECK(in_array.outcome == verdict::nul_character);
  CHECK(in_array.member == "lines[].sku");
  const auto strings = check_json_body_text(R"({"tags":["x","\u0000"]})");
  CHECK(strings.outcome == verdict::nul_character);
  CHECK(strings.member == "tags[]");
  const auto key = check_json_body_text(R"({"quantity":1,"a\u0000":1})");
  CHECK(key.outcome == verdict::nul_character);
  // Other control characters, escaped, are text like any other.
  CHECK(check_json_body_text(R"({"name":"a\u0001b\tc"})").outcome == verdict::object);
}

TEST_CASE("an object with more than max_body_object_members members is refused, naming it") {
  const auto object_of = [](std::size_t members) {
    std::string text = "{";
    for (std::size_t i = 0; i < members; ++i) text += (i == 0 ? "\"" : ",\"") + std::to_string(i) + "\":0";
    return text + "}";
  };
  CHECK(check_json_body_text(object_of(cqrs::gateway::max_body_object_members)).outcome == verdict::object);
  const auto top = check_json_body_text(object_of(cqrs::gateway::max_body_object_members + 1));
  CHECK(top.outcome == verdict::too_many_members);
  CHECK(top.member.empty());
  const auto nested =
      check_json_body_text("{\"a\":[{\"b\":" + object_of(cqrs::gateway::max_body_object_members + 1) + "}]}");
  CHECK(nested.outcome == verdict::too_many_members);
  CHECK(nested.member == "a[].b");
}

TEST_CASE("duplicates are found among many members as among few") {
  std::string text = "{";
  for (int i = 0; i < 900; ++i) text += "\"m" + std::to_string(i) + "\":0,";
  const auto late = check_json_body_text(text + "\"m450\":1}");
  CHECK(late.outcome == verdict::duplicate_member);
  CHECK(late.member == "m450");
  CHECK(check_json_body_text(text + "\"m900\":1}").outcome == verdict::object);
}
