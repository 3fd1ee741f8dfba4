// The router's layers without sockets: route() and finish() called directly, as the server does.

#include <chrono>
#include <string>
#include <variant>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include "core/metrics.hpp"
#include "gateway/cors_policy.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/http_metrics.hpp"
#include "gateway/jwt.hpp"
#include "gateway/rate_limiter.hpp"
#include "gateway/router.hpp"

namespace cqrs::gateway {

namespace {

constexpr auto allowed_origin = "https://app.example";

gateway_config test_config(rate_limit_config limits) {
  gateway_config config;
  config.engine.log = core::log_level::error;  // no access log lines in the test output
  config.auth.jwt_secret = "router-test-secret-0123456789abcdef";
  config.rate_limit = limits;
  return config;
}

// A handler that answers the path parameters it was given, one "name=value;" each.
route_handler echo_params() {
  return [](request_context& ctx) -> step {
    std::string body;
    for (const auto& [name, value] : ctx.params) body += name + "=" + value + ";";
    if (ctx.caller) body += "caller=" + ctx.caller->subject + ";";
    return http_response{200, {}, body};
  };
}

http_request request(std::string method, std::string target, header_list headers = {}, std::string body = {}) {
  http_request r;
  r.method = std::move(method);
  r.target = target;
  r.path = target.substr(0, target.find('?'));
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.remote_address = "192.0.2.1";
  return r;
}

struct router_fixture {
  explicit router_fixture(rate_limit_config limits = {1000, 2000, 1000})
      : config(test_config(limits)), tokens(config.auth), limiter(config.rate_limit), cors({allowed_origin}),
        metrics(registry), routes(router_dependencies{config, tokens, limiter, cors, metrics}) {
    routes.add({"GET", "/v1/items/{id}", access_policy::anyone(), echo_params(), false});
    routes.add({"GET", "/v1/items/special", access_policy::anyone(), echo_params(), false});
    routes.add({"GET", "/v1/items/{id}/parts/{part}", access_policy::anyone(), echo_params(), false});
    routes.add({"POST", "/v1/items", access_policy::any_of({"admin"}), echo_params(), true});
    routes.add({"GET", "/v1/admin", access_policy::any_of({"admin"}), echo_params(), false});
    routes.add({"GET", "/v1/staff", access_policy::any_of({"support", "admin"}), echo_params(), false});
    routes.add({"GET", "/v1/me", access_policy::authenticated(), echo_params(), false});
    routes.add({"GET", "/v1/users/{user}", access_policy::owner_or_any_of("user", {"support"}), echo_params(), false});
  }

  // route(), then finish(): the response exactly as the server would write it.
  std::pair<std::string, http_response> call(http_request& r) {
    auto routed = routes.route(r);
    REQUIRE(std::holds_alternative<http_response>(routed.first));
    auto response = std::get<http_response>(std::move(routed.first));
    routes.finish(r, routed.route, response, std::chrono::milliseconds(3));
    return {routed.route, std::move(response)};
  }
  http_response answer(http_request r) { return call(r).second; }

  std::string token(const std::string& subject, std::vector<std::string> roles) const {
    return "Bearer " + tokens.sign({subject, std::move(roles), std::chrono::seconds(600)});
  }

  gateway_config config;
  jwt_verifier tokens;
  rate_limiter limiter;
  cors_policy cors;
  core::metrics_registry registry;
  http_metrics metrics;
  router routes;
};

std::string header_of(const http_response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return {};
}

std::string code_of(const http_response& r) {
  return std::string(boost::json::parse(r.body).as_object().at("code").as_string());
}

}  // namespace

TEST_SUITE("router") {
  TEST_CASE_FIXTURE(router_fixture, "a path matches literal segments and {name} parameters, percent-decoded") {
    auto r = request("GET", "/v1/items/a%2Fb%20c");
    const auto [route, response] = call(r);
    CHECK(route == "GET /v1/items/{id}");
    CHECK(response.status == 200);
    CHECK(response.body == "id=a/b c;");

    auto nested = request("GET", "/v1/items/7/parts/x?q=1");
    const auto [nested_route, nested_response] = call(nested);
    CHECK(nested_route == "GET /v1/items/{id}/parts/{part}");
    CHECK(nested_response.body == "id=7;part=x;");
  }

  TEST_CASE_FIXTURE(router_fixture, "a query value that is not UTF-8 is 400 naming the parameter, on any route") {
    auto r = request("GET", "/v1/items/1?q=%ff&ok=fine");
    r.query = {{"q", "\xff"}, {"ok", "fine"}};
    const auto refused = answer(std::move(r));
    CHECK(refused.status == 400);
    CHECK(refused.body.find("\"field\":\"q\"") != std::string::npos);
    CHECK(refused.body.find("\"ok\"") == std::string::npos);
    auto fine = request("GET", "/v1/items/1?q=L%C3%A4mpchen");
    fine.query = {{"q", "L\xc3\xa4mpchen"}};
    CHECK(answer(std::move(fine)).status == 200);
  }

  TEST_CASE_FIXTURE(router_fixture, "a NUL in a query value is 400 naming the parameter, in a name 400 malformed") {
    auto r = request("GET", "/v1/items/1?q=a%00b");
    r.query = {{"q", std::string("a\0b", 3)}};
    const auto refused = answer(std::move(r));
    CHECK(refused.status == 400);
    CHECK(code_of(refused) == "validation_failed");
    CHECK(refused.body.find("\"field\":\"q\"") != std::string::npos);
    auto named = request("GET", "/v1/items/1?a%00=1");
    named.query = {{std::string("a\0", 2), "1"}};
    const auto malformed = answer(std::move(named));
    CHECK(malformed.status == 400);
    CHECK(code_of(malformed) == "malformed_request");
  }

  TEST_CASE_FIXTURE(router_fixture, "a query parameter given twice is 400 naming it once, on any route") {
    auto r = request("GET", "/v1/items/1?q=a&ok=1&q=b&q=c");
    r.query = {{"q", "a"}, {"ok", "1"}, {"q", "b"}, {"q", "c"}};
    const auto refused = answer(std::move(r));
    CHECK(refused.status == 400);
    CHECK(code_of(refused) == "validation_failed");
    const auto named = refused.body.find("\"field\":\"q\"");
    REQUIRE(named != std::string::npos);
    CHECK(refused.body.find("\"field\":\"q\"", named + 1) == std::string::npos);
    CHECK(refused.body.find("\"ok\"") == std::string::npos);
  }

  TEST_CASE_FIXTURE(router_fixture, "a literal segment wins over a parameter") {
    auto r = request("GET", "/v1/items/special");
    CHECK(call(r).first == "GET /v1/items/special");
  }

  TEST_CASE_FIXTURE(router_fixture, "an unknown path is 404 route_not_found, an empty parameter too") {
    for (const auto* target : {"/v1/nothing", "/v1/items/", "/v1/items/7/parts", "/"}) {
      CAPTURE(target);
      const auto response = answer(request("GET", target));
      CHECK(response.status == 404);
      CHECK(code_of(response) == "route_not_found");
    }
  }

  TEST_CASE_FIXTURE(router_fixture, "a known path with another method is 405 with Allow") {
    const auto response = answer(request("DELETE", "/v1/items/7"));
    CHECK(response.status == 405);
    CHECK(code_of(response) == "method_not_allowed");
    CHECK(header_of(response, "Allow") == "GET, HEAD, OPTIONS");
    CHECK(header_of(answer(request("PUT", "/v1/items")), "Allow") == "OPTIONS, POST");
  }

  TEST_CASE_FIXTURE(router_fixture, "HEAD is served by the GET route") {
    auto r = request("HEAD", "/v1/items/7");
    CHECK(call(r).second.status == 200);
  }

  TEST_CASE_FIXTURE(router_fixture, "an admin route refuses a missing or invalid token with 401, a token without the role with 403") {
    const auto missing = answer(request("GET", "/v1/admin"));
    CHECK(missing.status == 401);
    CHECK(code_of(missing) == "unauthorized");
    CHECK(header_of(missing, "WWW-Authenticate") == "Bearer error=\"invalid_token\"");

    const auto garbage = answer(request("GET", "/v1/admin", {{"authorization", "Bearer not-a-jwt"}}));
    CHECK(garbage.status == 401);
    CHECK(header_of(garbage, "WWW-Authenticate").starts_with("Bearer"));

    const auto basic = answer(request("GET", "/v1/admin", {{"authorization", "Basic YWxpY2U6c2VjcmV0"}}));
    CHECK(basic.status == 401);

    auto other = config.auth;
    other.jwt_secret = "some-other-secret-0123456789abcdef";
    const auto foreign = "Bearer " + jwt_verifier(other).sign({"mallory", {"admin"}, std::chrono::seconds(600)});
    CHECK(answer(request("GET", "/v1/admin", {{"authorization", foreign}})).status == 401);

    const auto viewer = answer(request("GET", "/v1/admin", {{"authorization", token("bob", {"viewer"})}}));
    CHECK(viewer.status == 403);
    CHECK(code_of(viewer) == "forbidden");

    const auto admin = answer(request("GET", "/v1/admin", {{"authorization", token("alice", {"admin"})}}));
    CHECK(admin.status == 200);
    CHECK(admin.body == "caller=alice;");
  }

  TEST_CASE_FIXTURE(router_fixture, "a route declares its roles: any of them admits, none is 403 naming them") {
    const auto support = answer(request("GET", "/v1/staff", {{"authorization", token("sam", {"support"})}}));
    CHECK(support.status == 200);
    const auto admin = answer(request("GET", "/v1/staff", {{"authorization", token("alice", {"customer", "admin"})}}));
    CHECK(admin.status == 200);
    const auto customer = answer(request("GET", "/v1/staff", {{"authorization", token("carl", {"customer"})}}));
    CHECK(customer.status == 403);
    CHECK(customer.body.find("this route needs one of the roles support, admin") != std::string::npos);
    CHECK(answer(request("GET", "/v1/staff")).status == 401);
  }

  TEST_CASE_FIXTURE(router_fixture, "an authenticated route takes any valid token, even one without roles") {
    CHECK(answer(request("GET", "/v1/me", {{"authorization", token("nobody", {})}})).status == 200);
    CHECK(answer(request("GET", "/v1/me")).status == 401);
    CHECK(answer(request("GET", "/v1/me", {{"authorization", "Bearer not-a-jwt"}})).status == 401);
  }

  TEST_CASE_FIXTURE(router_fixture, "an owner route admits the owner and the named roles, and no one else") {
    const auto owner = answer(request("GET", "/v1/users/carl", {{"authorization", token("carl", {"customer"})}}));
    CHECK(owner.status == 200);
    CHECK(owner.body == "user=carl;caller=carl;");
    const auto other = answer(request("GET", "/v1/users/carl", {{"authorization", token("dora", {"customer"})}}));
    CHECK(other.status == 403);
    CHECK(other.body.find("only the owner or the roles support may call this route") != std::string::npos);
    CHECK(answer(request("GET", "/v1/users/carl", {{"authorization", token("sam", {"support"})}})).status == 200);
    // The owner is compared after percent-decoding, as the handler sees the parameter.
    CHECK(answer(request("GET", "/v1/users/c%61rl", {{"authorization", token("carl", {})}})).status == 200);
    CHECK(answer(request("GET", "/v1/users/carl")).status == 401);
  }

  TEST_CASE_FIXTURE(router_fixture, "a public route needs no token, but refuses an invalid one") {
    CHECK(answer(request("GET", "/v1/items/1")).status == 200);
    CHECK(answer(request("GET", "/v1/items/1", {{"authorization", token("bob", {"viewer"})}})).body ==
          "id=1;caller=bob;");
    const auto bad = answer(request("GET", "/v1/items/1", {{"authorization", "Bearer a.b.c"}}));
    CHECK(bad.status == 401);
    CHECK(code_of(bad) == "unauthorized");
  }

  TEST_CASE_FIXTURE(router_fixture, "a JSON route takes application/json objects only: 415, then 400") {
    const auto admin = token("alice", {"admin"});
    const auto post = [&](header_list headers, std::string body) {
      headers.emplace_back("authorization", admin);
      return answer(request("POST", "/v1/items", std::move(headers), std::move(body)));
    };
    CHECK(post({}, "{}").status == 415);
    CHECK(code_of(post({{"content-type", "text/plain"}}, "{}")) == "unsupported_media_type");
    CHECK(post({{"content-type", "application/json; charset=utf-8"}}, R"({"a":1})").status == 200);
    CHECK(post({{"content-type", "Application/JSON"}}, "{}").status == 200);
    const auto broken = post({{"content-type", "application/json"}}, R"({"a":)");
    CHECK(broken.status == 400);
    CHECK(code_of(broken) == "malformed_request");
    CHECK(code_of(post({{"content-type", "application/json"}}, "[1]")) == "malformed_request");
    CHECK(code_of(post({{"content-type", "application/json"}}, "")) == "malformed_request");
    const auto twice = post({{"content-type", "application/json"}}, R"({"quantity":1,"quantity":1000})");
    CHECK(twice.status == 400);
    CHECK(code_of(twice) == "validation_failed");
    const auto errors = boost::json::parse(twice.body).as_object().at("errors").as_array();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].as_object().at("field").as_string() == "quantity");
  }

  TEST_CASE("past the burst a client gets 429 with Retry-After, keyed by token subject or address") {
    router_fixture f({0.5, 2, 1000});
    CHECK(f.answer(request("GET", "/v1/items/1")).status == 200);
    CHECK(f.answer(request("GET", "/v1/items/1")).status == 200);
    const auto limited = f.answer(request("GET", "/v1/items/1"));
    CHECK(limited.status == 429);
    CHECK(code_of(limited) == "rate_limited");
    CHECK(std::stoi(header_of(limited, "Retry-After")) >= 1);

    auto elsewhere = request("GET", "/v1/items/1");
    elsewhere.remote_address = "192.0.2.99";
    CHECK(f.answer(elsewhere).status == 200);
    // A verified subject has its own bucket, even from the exhausted address.
    const auto carol = f.token("carol", {});
    CHECK(f.answer(request("GET", "/v1/items/1", {{"authorization", carol}})).status == 200);
    CHECK(f.answer(request("GET", "/v1/items/1", {{"authorization", carol}})).status == 200);
    CHECK(f.answer(request("GET", "/v1/items/1", {{"authorization", carol}})).status == 429);
  }

  TEST_CASE_FIXTURE(router_fixture, "a sane X-Request-Id is echoed, anything else replaced by a generated one") {
    auto sane = request("GET", "/v1/items/1", {{"x-request-id", "abc.DEF_1-2"}});
    CHECK(header_of(call(sane).second, "X-Request-Id") == "abc.DEF_1-2");

    for (const auto& bad : {std::string("has space"), std::string(129, 'a'), std::string("quote\"")}) {
      auto r = request("GET", "/v1/items/1", {{"x-request-id", bad}});
      const auto id = header_of(call(r).second, "X-Request-Id");
      CHECK(id != bad);
      CHECK(id.size() == 32);
      CHECK(detail::is_valid_request_id(id));
      CHECK(r.header("x-request-id") == id);  // stored back: handlers and logs see the same id
    }
    auto none = request("GET", "/v1/items/1");
    const auto generated = header_of(call(none).second, "X-Request-Id");
    CHECK(generated.size() == 32);
    CHECK(generated != detail::generate_request_id());
  }

  TEST_CASE_FIXTURE(router_fixture, "a request refused before routing still gets a request id and its problem") {
    const auto r = request("POST", "/v1/items");
    auto response = routes.refused(r, 413, "the body is over 1048576 bytes");
    routes.finish(r, "refused", response, std::chrono::milliseconds(1));
    CHECK(response.status == 413);
    CHECK(code_of(response) == "payload_too_large");
    CHECK(header_of(response, "X-Request-Id").size() == 32);
    CHECK(code_of(routes.refused(r, 400, "bad")) == "malformed_request");
    CHECK(code_of(routes.refused(r, 408, "slow")) == "request_timeout");
    CHECK(code_of(routes.refused(r, 431, "big")) == "headers_too_large");
  }

  TEST_CASE_FIXTURE(router_fixture, "a CORS preflight from an allowed origin is answered 204; responses carry CORS headers") {
    auto preflight = request("OPTIONS", "/v1/items", {{"origin", allowed_origin}, {"access-control-request-method", "POST"}});
    const auto [route, answer204] = call(preflight);
    CHECK(answer204.status == 204);
    CHECK(header_of(answer204, "Access-Control-Allow-Origin") == allowed_origin);
    CHECK(!header_of(answer204, "Access-Control-Allow-Methods").empty());

    const auto plain = answer(request("GET", "/v1/items/1", {{"origin", allowed_origin}}));
    CHECK(header_of(plain, "Access-Control-Allow-Origin") == allowed_origin);
    const auto stranger = answer(request("GET", "/v1/items/1", {{"origin", "https://evil.example"}}));
    CHECK(header_of(stranger, "Access-Control-Allow-Origin").empty());
    // Without CORS, OPTIONS on a known path lists its methods.
    const auto options = answer(request("OPTIONS", "/v1/items/1"));
    CHECK(options.status == 204);
    CHECK(header_of(options, "Allow") == "GET, HEAD, OPTIONS");
  }

  TEST_CASE_FIXTURE(router_fixture, "overloaded, failed and refused answer problems without leaking details") {
    const auto r = request("GET", "/v1/items/1");
    const auto busy = routes.overloaded(r, pool_kind::redis);
    CHECK(busy.status == 503);
    CHECK(code_of(busy) == "overloaded");
    CHECK(header_of(busy, "Retry-After") == "1");
    const auto broken = routes.failed(r, "connection to server at 10.1.2.3 failed: password=hunter2", true);
    CHECK(broken.status == 503);
    CHECK(code_of(broken) == "dependency_unavailable");
    CHECK(broken.body.find("hunter2") == std::string::npos);
    CHECK(broken.body.find("10.1.2.3") == std::string::npos);
    const auto bug = routes.failed(r, "column \"secret_col\" does not exist", false);
    CHECK(bug.status == 500);
    CHECK(code_of(bug) == "internal_error");
    CHECK(bug.body.find("secret_col") == std::string::npos);
  }

  TEST_CASE_FIXTURE(router_fixture, "finish records the request in the metrics registry") {
    answer(request("GET", "/v1/items/1"));
    answer(request("GET", "/v1/items/2"));
    answer(request("GET", "/v1/nothing"));
    const auto text = registry.render();
    CHECK(text.find(R"(cqrs_http_requests_total{route="GET /v1/items/{id}",method="GET",status="200"} 2)") !=
          std::string::npos);
    CHECK(text.find(R"(cqrs_http_requests_total{route="unmatched",method="GET",status="404"} 1)") != std::string::npos);
    CHECK(text.find(R"(cqrs_http_request_duration_seconds_count{route="GET /v1/items/{id}"} 2)") != std::string::npos);
    CHECK(text.find(R"(cqrs_http_request_duration_seconds_bucket{route="GET /v1/items/{id}",le="0.005"} 2)") !=
          std::string::npos);
  }

  TEST_CASE_FIXTURE(router_fixture, "an offload from a handler is passed through to the server") {
    routes.add({"GET", "/v1/slow", access_policy::anyone(),
                [](request_context&) -> step {
                  return offload{pool_kind::redis, [](worker_context&) -> step { return http_response{}; },
                                 std::chrono::milliseconds(5)};
                },
                false});
    auto r = request("GET", "/v1/slow");
    const auto routed = routes.route(r);
    CHECK(routed.route == "GET /v1/slow");
    REQUIRE(std::holds_alternative<offload>(routed.first));
    CHECK(std::get<offload>(routed.first).pool == pool_kind::redis);
  }

  TEST_CASE_FIXTURE(router_fixture, "a pattern that is added twice or malformed is refused at start-up") {
    CHECK_THROWS_AS(routes.add({"GET", "/v1/items/{other}", access_policy::anyone(), echo_params(), false}), std::invalid_argument);
    CHECK_THROWS_AS(routes.add({"GET", "v1/x", access_policy::anyone(), echo_params(), false}), std::invalid_argument);
    CHECK_THROWS_AS(routes.add({"GET", "/v1/{a-b}", access_policy::anyone(), echo_params(), false}), std::invalid_argument);
  }
}

}  // namespace cqrs::gateway
