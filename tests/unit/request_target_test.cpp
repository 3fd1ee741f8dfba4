// The request target as every route sees it: Boost.URL's standard decoding of the path (segment by
// segment) and of the query ('+' is a space), and the refusal of targets that are not RFC 3986.

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "gateway/request_target.hpp"

using cqrs::gateway::is_valid_utf8;
using cqrs::gateway::parse_request_target;

using query_list = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("a target's path is percent-decoded, and an encoded '/' stays inside its segment") {
  const auto t = parse_request_target("/v1/products/a%2Fb%20c");
  REQUIRE(t);
  CHECK(t->path == "/v1/products/a/b c");
  CHECK(t->segments == std::vector<std::string>{"v1", "products", "a/b c"});
}

TEST_CASE("'+' is a space in the query and a plus in the path; %2B is a plus in both") {
  const auto t = parse_request_target("/v1/a+b?q=desk+lamp&p=1%2B1&flag&empty=");
  REQUIRE(t);
  CHECK(t->segments == std::vector<std::string>{"v1", "a+b"});
  CHECK(t->query == query_list{{"q", "desk lamp"}, {"p", "1+1"}, {"flag", ""}, {"empty", ""}});
}

TEST_CASE("the root and a trailing slash end in an empty segment, which no {parameter} matches") {
  CHECK(parse_request_target("/")->segments == std::vector<std::string>{""});
  CHECK(parse_request_target("/v1/items/")->segments == std::vector<std::string>{"v1", "items", ""});
}

TEST_CASE("empty query items are skipped, repeated names kept in order") {
  const auto t = parse_request_target("/x?a=1&&a=2&");
  REQUIRE(t);
  CHECK(t->query == query_list{{"a", "1"}, {"a", "2"}});
}

TEST_CASE("a target that is not origin form is refused") {
  CHECK_FALSE(parse_request_target("/x?q=%zz"));
  CHECK_FALSE(parse_request_target("/x%"));
  CHECK_FALSE(parse_request_target("/x%4"));
  CHECK_FALSE(parse_request_target("/a b"));
  CHECK_FALSE(parse_request_target("http://example.com/x"));
  CHECK_FALSE(parse_request_target("*"));
  CHECK_FALSE(parse_request_target(""));
}

TEST_CASE("UTF-8 text is told from bytes that are not") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("lamp"));
  CHECK(is_valid_utf8("L\xc3\xa4mpchen \xe2\x82\xac \xf0\x9f\x92\xa1"));  // ä € 💡
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("a\xc3"));              // truncated
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));           // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));       // a surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));   // past U+10FFFF
}
