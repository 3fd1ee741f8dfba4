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
