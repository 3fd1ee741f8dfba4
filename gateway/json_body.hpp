#pragma once

// The shape every JSON request body must have before a route reads it: valid JSON, an object at
// the top, and each object naming each of its members once.
//
// Why duplicates are refused: Boost.JSON keeps the last of duplicate members without a word, so
// {"quantity":1,"quantity":1000} would restock 1,000 while a proxy or log reader that keeps the
// first sees 1. An ambiguous body is refused instead (RFC 8259 says names SHOULD be unique and
// leaves duplicates' meaning to each parser), naming the member.
//
// Why a NUL is refused: "\u0000" is valid JSON, but no text column of PostgreSQL can hold U+0000,
// and C APIs cut a string at it; a name or reason holding one would be stored in an event that
// every reader must then cope with. It is refused here, once, for every string of every body.
//
// Why members are bounded: no body of this API has more than a handful, and a body of 1 MiB can
// hold some 100,000 of them, each of which would otherwise cost a comparison against every other
// and an entry in the refusal's list of unknown fields.

#include <cstddef>
#include <string>
#include <string_view>

namespace cqrs::gateway {

struct json_body_check {
  enum class verdict { object, not_object, invalid, duplicate_member, nul_character, too_many_members };

  verdict outcome = verdict::invalid;
  // For duplicate_member, nul_character and too_many_members: the member's path (for the last, the
  // object's), dotted through enclosing objects ("price.amount"); an array contributes "[]"
  // ("lines[].sku").
  std::string member;
};

// Members one object of a body may have.
inline constexpr std::size_t max_body_object_members = 1000;

// One pass of Boost.JSON's SAX parser: no DOM is built.
json_body_check check_json_body_text(std::string_view text);

}  // namespace cqrs::gateway
