// Harness cursor: the catalog's cursor decoder and the rest of GET /v1/products' query. The
// input's first byte picks what the rest is:
//   even: a cursor value as a client sends it back (?cursor=...), already percent-decoded;
//   odd:  a whole query string, read as the server reads targets (request_target.hpp), so every
//         parameter of the catalog (q, min_price, max_price, in_stock, include_discontinued,
//         limit, cursor) is decoded from it.
// Promises checked: a bad parameter is named in the errors, never thrown; a cursor accepted is
// non-empty UTF-8 text without NUL, and encodes back (base64url, as the catalog writes
// next_cursor) to exactly the text sent; every id the catalog can return (any non-empty UTF-8
// text without NUL) survives the trip through a cursor.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http_types.hpp"
#include "gateway/jwt.hpp"
#include "gateway/problem.hpp"
#include "gateway/product/product_query_routes.hpp"
#include "gateway/request_target.hpp"
#include "projections/product/product_projections.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace cqrs::fuzz {
namespace {

using namespace cqrs::gateway;

bool named(const std::vector<field_error>& errors, std::string_view field) {
  for (const auto& e : errors) {
    if (e.field == field) return true;
  }
  return false;
}

projections::catalog_query read(const http_request& request, std::vector<field_error>& errors) {
  auto query = gateway::detail::catalog_query_of(request, errors);
  for (const auto& e : errors) expect(!e.field.empty() && !e.message.empty(), "an error without field or message");
  expect(query.limit >= 1 && query.limit <= 100, "a page size out of bounds");
  return query;
}

void decode_cursor(std::string_view cursor) {
  http_request request;
  request.query.emplace_back("cursor", std::string(cursor));
  std::vector<field_error> errors;
  const auto query = read(request, errors);
  if (named(errors, "cursor")) return;
  expect(errors.empty(), "a cursor alone raised another error");
  expect(query.after_product_id.has_value() && !query.after_product_id->empty(), "a cursor accepted without an id");
  const auto& id = *query.after_product_id;
  expect(is_valid_utf8(id) && id.find('\0') == std::string::npos, "a cursor accepted with an id that is not text");
  expect(gateway::detail::base64url_encode(id) == cursor, "a cursor has two spellings", cursor);
}

// The catalog's own next_cursor for an id, read back.
void round_trip(std::string_view id) {
  if (id.empty() || !is_valid_utf8(id) || id.find('\0') != std::string_view::npos) return;
  http_request request;
  request.query.emplace_back("cursor", gateway::detail::base64url_encode(id));
  std::vector<field_error> errors;
  const auto query = read(request, errors);
  expect(errors.empty() && query.after_product_id == std::string(id), "an id does not survive its cursor", id);
}

void decode_query(std::string_view text) {
  const auto target = parse_request_target("/v1/products?" + std::string(text));
  if (!target) return;
  http_request request;
  request.query = target->query;
  std::vector<field_error> errors;
  (void)read(request, errors);
}

}  // namespace
}  // namespace cqrs::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    cqrs::fuzz::decode_cursor(rest);
    cqrs::fuzz::round_trip(rest);
  } else {
    cqrs::fuzz::decode_query(rest);
  }
  return 0;
}
