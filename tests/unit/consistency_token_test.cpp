// The consistency token a read carries: min_position first, then the Consistency-Token header,
// then the cookie command answers set; a bad value is a 400 naming where it came from.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/log_position.hpp"
#include "gateway/consistency.hpp"
#include "gateway/gateway_config.hpp"

using namespace cqrs;
using namespace cqrs::gateway;

namespace {

http_request with_headers(header_list headers, std::vector<std::pair<std::string, std::string>> query = {}) {
  return http_request{"GET", "/v1/orders", "/v1/orders", std::move(query), std::move(headers), "", "127.0.0.1", {}};
}

const std::string a = core::log_position{5, 1}.token();
const std::string b = core::log_position{6, 2}.token();

}  // namespace

TEST_SUITE("consistency token") {
  TEST_CASE("a read without a token waits for nothing") {
    std::vector<field_error> errors;
    CHECK_FALSE(read_causal_position(with_headers({}), gateway_config{}, errors));
    CHECK(errors.empty());
  }

  TEST_CASE("the cookie is found among others and waited for") {
    std::vector<field_error> errors;
    const auto wait = read_causal_position(
        with_headers({{"cookie", "theme=dark; Consistency-Token=" + a + "; lang=en"}}), gateway_config{}, errors);
    REQUIRE(wait);
    CHECK(wait->position.token() == a);
    CHECK(errors.empty());
  }

  TEST_CASE("the header wins over the cookie, and min_position over both") {
    std::vector<field_error> errors;
    const header_list both{{"cookie", "Consistency-Token=" + a}, {"consistency-token", b}};
    CHECK(read_causal_position(with_headers(both), gateway_config{}, errors)->position.token() == b);
    const auto explicit_wait =
        read_causal_position(with_headers(both, {{"min_position", a}}), gateway_config{}, errors);
    CHECK(explicit_wait->position.token() == a);
    CHECK(errors.empty());
  }

  TEST_CASE("a malformed token is refused under its name") {
    std::vector<field_error> errors;
    CHECK_FALSE(read_causal_position(with_headers({{"cookie", "Consistency-Token=zz"}}), gateway_config{}, errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "Consistency-Token");
  }

  TEST_CASE("a cookie whose name only ends like the token's is not the token") {
    CHECK_FALSE(detail::cookie(with_headers({{"cookie", "XConsistency-Token=" + a}}), "Consistency-Token"));
    CHECK(detail::cookie(with_headers({{"cookie", "x=1;Consistency-Token=" + a}}), "Consistency-Token") == a);
  }
}
