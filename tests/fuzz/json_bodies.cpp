// Harness json_bodies: every route's JSON body reader. The input's first byte picks the route, the
// rest is the body. The body goes first through the router's check (json_body.hpp: valid JSON,
// an object, no duplicate member), as it does on its way to a route; a body that passes is read
// by the route's own preparation (gateway/product/product_command_routes.hpp: json_fields.hpp's
// strict reading of each member), with an admin caller, an Idempotency-Key and If-Match. The
// outcome must be a command or a 4xx problem naming what was wrong, never an exception.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <variant>

#include "gateway/json_body.hpp"
#include "gateway/product/product_command_routes.hpp"
#include "gateway/router.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace cqrs::fuzz {
namespace {

using namespace cqrs::gateway;
using prepare_fn = gateway::detail::preparation (*)(const request_context&);

// Every product command route (POST /v1/products, PATCH /v1/products/{id}, ...), in the order of
// add_product_command_routes; the last two take no body but read the same headers.
constexpr prepare_fn routes[] = {
    gateway::detail::prepare_create,  gateway::detail::prepare_update_details, gateway::detail::prepare_change_price,
    gateway::detail::prepare_restock, gateway::detail::prepare_reserve,        gateway::detail::prepare_discontinue,
    gateway::detail::prepare_release, gateway::detail::prepare_commit,
};
constexpr std::size_t route_count = sizeof(routes) / sizeof(routes[0]);

void read_body(prepare_fn prepare, std::string body) {
  const auto checked = check_json_body_text(body);
  if (checked.outcome != json_body_check::verdict::object) {
    // A duplicate is named; only a member whose name is empty ("") has an empty name.
    if (checked.outcome == json_body_check::verdict::duplicate_member) {
      expect(!checked.member.empty() || body.find("\"\"") != std::string::npos, "a duplicate without its name");
    }
    return;  // the router refuses it before the route sees it
  }
  http_request request{"POST", "/", "/", {}, {{"content-type", "application/json"}, {"idempotency-key", "order-1001"},
                                              {"if-match", "\"3\""}}, std::move(body), "192.0.2.7", {}};
  std::map<std::string, std::string> params{{"id", "0f8fad5b-d9cb-469f-a165-70867728950e"}, {"rid", "order-1001"}};
  request_context ctx{request, params, principal{"alice", {"admin"}}, "req-1"};
  const auto prepared = prepare(ctx);
  if (const auto* refusal = std::get_if<http_response>(&prepared)) {
    check_answer(*refusal);
    expect(refusal->status >= 400, "a body was refused without a 4xx", refusal->body);
  }
}

}  // namespace
}  // namespace cqrs::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto route = cqrs::fuzz::routes[data[0] % cqrs::fuzz::route_count];
  cqrs::fuzz::read_body(route, std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  return 0;
}
