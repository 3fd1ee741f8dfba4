#pragma once

// The shape every JSON request body must have before a route reads it: valid JSON, an object at
// the top, and each object naming each of its members once.
//
// Why duplicates are refused: Boost.JSON keeps the last of duplicate members without a word, so
// {"quantity":1,"quantity":1000} would restock 1,000 while a proxy or log reader that keeps the
// first sees 1. An ambiguous body is refused instead (RFC 8259 says names SHOULD be unique and
// leaves duplicates' meaning to each parser), naming the member.

#include <string>
#include <string_view>

namespace cqrs::gateway {

struct json_body_check {
  enum class verdict { object, not_object, invalid, duplicate_member };

  verdict outcome = verdict::invalid;
  // For duplicate_member: the member's path, dotted through enclosing objects ("price.amount");
  // an array contributes "[]" ("lines[].sku").
  std::string member;
};

// One pass of Boost.JSON's SAX parser: no DOM is built.
json_body_check check_json_body_text(std::string_view text);

}  // namespace cqrs::gateway
