// The HTTP boundary maps every error code, of every enum, to a status and a problem type of its
// own. Iterating each enum's numeric range catches a code added without a mapping test.

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>

#include "commands/command_outcome.hpp"
#include "commands/product/product_errc.hpp"
#include "gateway/error_mapping.hpp"
#include "gateway/product/product_errors.hpp"

namespace {

namespace gw = cqrs::gateway;
namespace product = cqrs::commands::product;
namespace commands = cqrs::commands;

constexpr std::string_view type_prefix = "https://cqrs.dev/problems/";

// Checks one mapping and records its type, which must not be any other code's.
void check_mapping(const gw::error_mapping& mapping, std::string_view name, std::set<std::string>& types) {
  CAPTURE(name);
  CHECK_FALSE(name.empty());
  CHECK(mapping.status >= 400);
  CHECK(mapping.status <= 599);
  CHECK(mapping.type.starts_with(type_prefix));
  CHECK(mapping.type.ends_with(name));
  CHECK(mapping.type.size() == type_prefix.size() + name.size());  // exactly prefix + name
  CHECK_FALSE(mapping.title.empty());
  CHECK(types.insert(mapping.type).second);
}

// Every value from 1 to `last`, mapped by `map` and named by `name`.
template <typename Code, typename Map, typename Name>
void check_every_value(Code last, Map map, Name name, std::set<std::string>& types) {
  for (int value = 1; value <= static_cast<int>(last); ++value) {
    const auto code = static_cast<Code>(value);
    CAPTURE(value);
    check_mapping(map(code), name(code), types);
  }
}

}  // namespace

TEST_SUITE("error_mapping") {

TEST_CASE("error mapping: every code of every enum has a status and a problem type of its own") {
  std::set<std::string> types;
  check_every_value(
      gw::errc::internal_error, [](gw::errc c) { return gw::map_error(c); },
      [](gw::errc c) { return gw::to_string(c); }, types);
  check_every_value(
      product::errc::invalid_reason, [](product::errc c) { return gw::map_error(c); },
      [](product::errc c) { return product::to_string(c); }, types);
  check_every_value(
      commands::errc::invalid_request, [](commands::errc c) { return gw::map_error(c); },
      [](commands::errc c) { return commands::to_string(c); }, types);
  CHECK(types.size() == 16 + 17 + 3);
}

TEST_CASE("error mapping: the gateway's own codes answer with their conventional statuses") {
  CHECK(gw::map_error(gw::errc::malformed_request).status == 400);
  CHECK(gw::map_error(gw::errc::unauthorized).status == 401);
  CHECK(gw::map_error(gw::errc::forbidden).status == 403);
  CHECK(gw::map_error(gw::errc::route_not_found).status == 404);
  CHECK(gw::map_error(gw::errc::method_not_allowed).status == 405);
  CHECK(gw::map_error(gw::errc::payload_too_large).status == 413);
  CHECK(gw::map_error(gw::errc::unsupported_media_type).status == 415);
  CHECK(gw::map_error(gw::errc::rate_limited).status == 429);
  CHECK(gw::map_error(gw::errc::headers_too_large).status == 431);
  CHECK(gw::map_error(gw::errc::internal_error).status == 500);
  CHECK(gw::map_error(gw::errc::overloaded).status == 503);
}

TEST_CASE("error mapping: a version conflict is 412 when the caller's If-Match failed, else 409") {
  const auto precondition = gw::map_error(commands::errc::version_conflict, true);
  const auto contention = gw::map_error(commands::errc::version_conflict, false);
  CHECK(precondition.status == 412);
  CHECK(contention.status == 409);
  CHECK(gw::map_error(commands::errc::version_conflict).status == 409);
  CHECK(precondition.type == contention.type);  // one code, two situations
  CHECK(precondition.title != contention.title);
}

TEST_CASE("error mapping: the caller's expectation matters for version conflicts only") {
  for (int value = 2; value <= static_cast<int>(commands::errc::invalid_request); ++value) {
    const auto code = static_cast<commands::errc>(value);
    CAPTURE(value);
    CHECK(gw::map_error(code, true).status == gw::map_error(code, false).status);
  }
}

TEST_CASE("error mapping: field_of names the field of every invalid_* product code, and only of those") {
  for (int value = 1; value <= static_cast<int>(product::errc::invalid_reason); ++value) {
    const auto code = static_cast<product::errc>(value);
    const auto name = product::to_string(code);
    CAPTURE(name);
    const bool about_a_field = name.find(".invalid_") != std::string_view::npos;
    CHECK(gw::field_of(code).empty() == !about_a_field);
  }
  CHECK(gw::field_of(product::errc::invalid_sku) == "sku");
  CHECK(gw::field_of(product::errc::invalid_price) == "price.amount");
  CHECK(gw::field_of(product::errc::invalid_currency) == "price.currency");
  CHECK(gw::field_of(product::errc::invalid_reservation_id) == "reservation_id");
}

}  // TEST_SUITE
