// The Product command routes without a database: requests become exactly the command they
// describe (or a 400 naming every bad field at once), and outcomes become their HTTP answers.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "gateway/product/product_command_routes.hpp"
#include "gateway/router.hpp"
#include "gateway/worker_context.hpp"

using namespace cqrs;
using namespace cqrs::gateway;
using detail::prepared_command;
using detail::preparation;

namespace {

using prepare_fn = preparation (*)(const request_context&);

// One request to one route, as the router would hand it over.
struct call {
  explicit call(std::string b = {}) : body(std::move(b)) {}

  std::string body;
  std::map<std::string, std::string> params{{"id", "p1"}};
  header_list headers;
  std::optional<principal> caller = principal{"alice", {"admin"}};

  preparation to(prepare_fn prepare) const {
    http_request request{"POST", "/", "/", {}, headers, body, "127.0.0.1", {}};
    request_context ctx{request, params, caller, "req-1"};
    return prepare(ctx);
  }
};

prepared_command command_of(const preparation& p) {
  REQUIRE(std::holds_alternative<prepared_command>(p));
  return std::get<prepared_command>(p);
}

http_response refusal_of(const preparation& p) {
  REQUIRE(std::holds_alternative<http_response>(p));
  return std::get<http_response>(p);
}

boost::json::object body_of(const http_response& r) { return boost::json::parse(r.body).as_object(); }

std::optional<std::string> header_of(const http_response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

// The fields a 400 names, in order.
std::vector<std::string> fields_of(const http_response& r) {
  std::vector<std::string> out;
  const auto body = body_of(r);
  if (const auto* errors = body.if_contains("errors")) {
    for (const auto& e : errors->as_array()) out.emplace_back(e.as_object().at("field").as_string());
  }
  return out;
}

std::string message_for(const http_response& r, std::string_view field) {
  const auto body = body_of(r);  // kept alive: a range-for over a temporary's member dangles
  for (const auto& e : body.at("errors").as_array()) {
    if (e.as_object().at("field").as_string() == field) return std::string(e.as_object().at("message").as_string());
  }
  return {};
}

std::vector<std::string> refused_fields(const call& c, prepare_fn prepare) {
  const auto r = refusal_of(c.to(prepare));
  CHECK(r.status == 400);
  CHECK(body_of(r).at("code").as_string() == "validation_failed");
  return fields_of(r);
}

const std::string good_create =
    R"({"sku":"LAMP-1","name":"Lamp","description":"A lamp","price":{"amount":1999,"currency":"EUR"},"stock":5})";

schemas::create_product lamp() {
  return {schemas::sku("LAMP-1"), "Lamp", "A lamp", {1999, schemas::currency_code("EUR")}, 5};
}

prepared_command product_route(std::string_view quantity_field = "quantity", bool creates = false) {
  commands::command_context context;
  context.if_match = core::stream_version{3};
  std::vector<field_alias> aliases;
  if (quantity_field != "quantity") aliases.push_back({"quantity", quantity_field});
  return {"p1", {core::stream_id::parse("product-p1").value(), schemas::restock_product{}, context}, creates,
          std::move(aliases)};
}

commands::product::product_outcome rejection(commands::product::errc code) {
  return commands::rejected<commands::product::rejection>{{code, "why it was refused"}};
}

}  // namespace

TEST_SUITE("product command routes: bodies become commands") {
  TEST_CASE("a valid create body becomes exactly the create_product command") {
    const auto c = command_of(call{good_create}.to(detail::prepare_create));
    CHECK(c.envelope.command == schemas::product_command{lamp()});
    CHECK(c.creates);
    CHECK(c.envelope.target.str() == "product-" + c.id);
  }

  TEST_CASE("creates without an Idempotency-Key get fresh random ids") {
    const auto a = command_of(call{good_create}.to(detail::prepare_create));
    const auto b = command_of(call{good_create}.to(detail::prepare_create));
    CHECK(a.id != b.id);
    CHECK(a.id.size() == 36);
  }

  TEST_CASE("a create with an Idempotency-Key targets the product derived from the caller and the key") {
    call c{good_create};
    c.headers = {{"idempotency-key", "create-lamp-1"}};
    const auto first = command_of(c.to(detail::prepare_create));
    const auto retry = command_of(c.to(detail::prepare_create));
    CHECK(first.id == detail::derived_product_id("alice", "create-lamp-1"));
    CHECK(retry.envelope.target == first.envelope.target);
  }

  TEST_CASE("the other routes' bodies and paths become exactly their commands") {
    using namespace schemas;
    CHECK(command_of(call{R"({"name":"Lamp","description":""})"}.to(detail::prepare_update_details)).envelope.command ==
          product_command{update_product_details{"Lamp", ""}});
    CHECK(command_of(call{R"({"price":{"amount":0,"currency":"USD"}})"}.to(detail::prepare_change_price))
              .envelope.command == product_command{change_product_price{{0, currency_code("USD")}}});
    CHECK(command_of(call{R"({"quantity":7})"}.to(detail::prepare_restock)).envelope.command ==
          product_command{restock_product{quantity(7)}});
    CHECK(command_of(call{R"({"reservation_id":"order-9","quantity":2})"}.to(detail::prepare_reserve)).envelope.command ==
          product_command{reserve_stock{reservation_id("order-9"), quantity(2)}});
    call by_path;
    by_path.params["rid"] = "order-9";
    CHECK(command_of(by_path.to(detail::prepare_release)).envelope.command ==
          product_command{release_reservation{reservation_id("order-9")}});
    CHECK(command_of(by_path.to(detail::prepare_commit)).envelope.command ==
          product_command{commit_reservation{reservation_id("order-9")}});
    CHECK(command_of(call{R"({"reason":"recalled"})"}.to(detail::prepare_discontinue)).envelope.command ==
          product_command{discontinue_product{"recalled"}});
  }

  TEST_CASE("the reason of discontinue may be left out or null, and is then empty") {
    const schemas::product_command empty_reason{schemas::discontinue_product{""}};
    CHECK(command_of(call{"{}"}.to(detail::prepare_discontinue)).envelope.command == empty_reason);
    CHECK(command_of(call{R"({"reason":null})"}.to(detail::prepare_discontinue)).envelope.command == empty_reason);
    CHECK(refused_fields(call{R"({"reason":5})"}, detail::prepare_discontinue) == std::vector<std::string>{"reason"});
  }

  TEST_CASE("the largest int64 is accepted where an integer belongs") {
    const auto c = command_of(call{R"({"quantity":9223372036854775807})"}.to(detail::prepare_restock));
    CHECK(std::get<schemas::restock_product>(c.envelope.command).added.value() == INT64_MAX);
  }

  TEST_CASE("the release and commit routes ignore a body") {
    call c{"not json at all"};
    c.params["rid"] = "order-1";
    CHECK(std::holds_alternative<prepared_command>(c.to(detail::prepare_release)));
  }
}

TEST_SUITE("product command routes: every problem is reported at once") {
  TEST_CASE("an empty create body names every missing field") {
    const auto r = refusal_of(call{"{}"}.to(detail::prepare_create));
    CHECK(fields_of(r) == std::vector<std::string>{"sku", "name", "description", "price", "stock"});
    CHECK(message_for(r, "sku") == "is required");
  }

  TEST_CASE("a price without its members names them dotted") {
    CHECK(refused_fields(call{R"({"price":{}})"}, detail::prepare_change_price) ==
          std::vector<std::string>{"price.amount", "price.currency"});
  }

  TEST_CASE("wrong types are named with their dotted fields, all at once") {
    const auto body =
        R"({"sku":5,"name":true,"description":null,"price":{"amount":"1999","currency":3},"stock":[1]})";
    const auto r = refusal_of(call{body}.to(detail::prepare_create));
    CHECK(fields_of(r) == std::vector<std::string>{"sku", "name", "description", "price.amount", "price.currency", "stock"});
    CHECK(message_for(r, "price.amount") == "must be an integer, not a string");
    CHECK(message_for(r, "name") == "must be a string, not a boolean");
  }

  TEST_CASE("a price that is not an object is refused as a whole") {
    const auto r = refusal_of(call{R"({"price":1999})"}.to(detail::prepare_change_price));
    CHECK(fields_of(r) == std::vector<std::string>{"price"});
  }

  TEST_CASE("fractions, exponents and numbers beyond int64 are refused where an integer belongs") {
    for (const auto* number : {"1.5", "-0.25", "1e3", "2.0", "9223372036854775808", "18446744073709551616", "1e30",
                               "-9223372036854775809"}) {
      CAPTURE(number);
      const auto r = refusal_of(call{fmt::format(R"({{"quantity":{}}})", number)}.to(detail::prepare_restock));
      CHECK(fields_of(r) == std::vector<std::string>{"quantity"});
    }
    const auto fraction = refusal_of(call{R"({"quantity":1.5})"}.to(detail::prepare_restock));
    CHECK(message_for(fraction, "quantity") == "must be a whole number, not a fraction");
    const auto huge = refusal_of(call{R"({"quantity":9223372036854775808})"}.to(detail::prepare_restock));
    CHECK(message_for(huge, "quantity").find("-9223372036854775808 to 9223372036854775807") != std::string::npos);
  }

  TEST_CASE("unknown fields are reported, nested ones dotted, with the fields expected") {
    const auto body = R"({"quantity":1,"colour":"red"})";
    const auto r = refusal_of(call{body}.to(detail::prepare_restock));
    CHECK(fields_of(r) == std::vector<std::string>{"colour"});
    CHECK(message_for(r, "colour") == "is not a known field; expected quantity");
    CHECK(refused_fields(call{R"({"price":{"amount":1,"currency":"EUR","cents":1}})"}, detail::prepare_change_price) ==
          std::vector<std::string>{"price.cents"});
  }

  TEST_CASE("bad headers, a bad product id and bad fields come back in one answer") {
    call c{R"({"name":1,"extra":true})"};
    c.params["id"] = "not a valid id";
    c.headers = {{"idempotency-key", ""}, {"if-match", "*"}, {"x-correlation-id", "has space"}};
    CHECK(refused_fields(c, detail::prepare_update_details) ==
          std::vector<std::string>{"Idempotency-Key", "If-Match", "X-Correlation-Id", "id", "name", "description",
                                   "extra"});
  }

  TEST_CASE("a product id that cannot name a product stream is refused naming id") {
    for (const auto& id : std::vector<std::string>{"", "a b", "x/y", "caf\xc3\xa9", std::string(193, 'a')}) {
      CAPTURE(id);
      call c{R"({"quantity":1})"};
      c.params["id"] = id;
      CHECK(refused_fields(c, detail::prepare_restock) == std::vector<std::string>{"id"});
    }
    call dashed{R"({"quantity":1})"};
    dashed.params["id"] = "a-b_c.d~e";
    CHECK(command_of(dashed.to(detail::prepare_restock)).envelope.target.str() == "product-a-b_c.d~e");
  }

  TEST_CASE("a body that is not a JSON object is a malformed request") {
    for (const auto* body : {"[1]", "\"text\"", "{", ""}) {
      CAPTURE(body);
      const auto r = refusal_of(call{body}.to(detail::prepare_restock));
      CHECK(r.status == 400);
      CHECK(body_of(r).at("code").as_string() == "malformed_request");
    }
  }

  TEST_CASE("a request without a caller is refused 401") {
    call c{R"({"quantity":1})"};
    c.caller.reset();
    CHECK(refusal_of(c.to(detail::prepare_restock)).status == 401);
  }
}

TEST_SUITE("product command routes: headers and identities") {
  TEST_CASE("If-Match takes a version bare, quoted or weak") {
    CHECK(detail::parse_if_match("3") == core::stream_version{3});
    CHECK(detail::parse_if_match("\"3\"") == core::stream_version{3});
    CHECK(detail::parse_if_match("W/\"3\"") == core::stream_version{3});
    CHECK(detail::parse_if_match("\"0\"") == core::stream_version{0});
  }

  TEST_CASE("If-Match refuses anything that is not a version") {
    for (const auto* value : {"", "*", "\"\"", "-1", "+3", "\"3", "3.0", "abc", "W/3x", "\"3\", \"4\"",
                              "99999999999999999999"}) {
      CAPTURE(value);
      CHECK_FALSE(detail::parse_if_match(value).has_value());
    }
  }

  TEST_CASE("an Idempotency-Key is 1 to 255 visible ASCII characters") {
    CHECK(detail::is_valid_idempotency_key("a"));
    CHECK(detail::is_valid_idempotency_key(std::string(255, '~')));
    for (const auto& key : {std::string{}, std::string(256, 'a'), std::string("a b"), std::string("a\tb"),
                                  std::string("caf\xc3\xa9")}) {
      CAPTURE(key);
      CHECK_FALSE(detail::is_valid_idempotency_key(key));
    }
  }

  TEST_CASE("the derived product id is stable per caller and key, and differs across callers and keys") {
    const auto id = detail::derived_product_id("alice", "k1");
    CHECK(id == detail::derived_product_id("alice", "k1"));
    CHECK(id != detail::derived_product_id("bob", "k1"));
    CHECK(id != detail::derived_product_id("alice", "k2"));
    // Length-prefixed: moving characters between subject and key changes the id.
    CHECK(detail::derived_product_id("ab", "c") != detail::derived_product_id("a", "bc"));
    REQUIRE(id.size() == 36);
    CHECK(id[14] == '8');  // UUID version 8
    CHECK(core::event_id::parse(id).ok());
  }

  TEST_CASE("the command context names the caller, the request, the correlation, the caller's key and If-Match") {
    call c{R"({"quantity":1})"};
    c.headers = {{"idempotency-key", "k1"}, {"if-match", "W/\"4\""}, {"x-correlation-id", "order-flow-7"}};
    const auto context = command_of(c.to(detail::prepare_restock)).envelope.context;
    CHECK(context.actor == "alice");
    CHECK(context.command_id == "req-1");
    CHECK(context.correlation_id == "order-flow-7");
    CHECK(context.idempotency_key == detail::scoped_idempotency_key("alice", "k1"));
    CHECK(context.if_match == core::stream_version{4});
  }

  TEST_CASE("idempotency keys are scoped to the caller and always fit the store") {
    CHECK(detail::scoped_idempotency_key("alice", "k1") != detail::scoped_idempotency_key("bob", "k1"));
    CHECK(detail::scoped_idempotency_key("alice", std::string(255, 'k')).size() == 64);
  }
}

TEST_SUITE("product command routes: outcomes become answers") {
  TEST_CASE("an accepted create answers 201 with Location, ETag, X-Position and the body") {
    const auto route = product_route("stock", true);
    const core::log_position at{5, 9};
    const auto r = detail::answer(commands::accepted{core::stream_version{1}, at, {}, false, 1}, route);
    CHECK(r.status == 201);
    CHECK(header_of(r, "Location") == "/v1/products/p1");
    CHECK(header_of(r, "ETag") == "\"1\"");
    CHECK(header_of(r, "X-Position") == at.token());
    CHECK(header_of(r, "Content-Type") == "application/json");
    CHECK_FALSE(header_of(r, "Idempotent-Replayed"));
    CHECK(body_of(r) == boost::json::object{{"id", "p1"}, {"version", 1}, {"position", at.token()}});
  }

  TEST_CASE("every answer that wrote carries the position as a Consistency-Token header and cookie") {
    const core::log_position at{7, 3};
    const auto r = detail::answer(commands::accepted{core::stream_version{2}, at, {}, false, 1}, product_route());
    CHECK(header_of(r, "Consistency-Token") == at.token());
    CHECK(header_of(r, "Set-Cookie") ==
          "Consistency-Token=" + at.token() + "; Secure; HttpOnly; SameSite=Strict; Path=/");
    const auto unchanged =
        detail::answer(commands::accepted{core::stream_version{4}, std::nullopt, {}, false, 1}, product_route());
    CHECK_FALSE(header_of(unchanged, "Consistency-Token"));
    CHECK_FALSE(header_of(unchanged, "Set-Cookie"));
  }

  TEST_CASE("a replayed outcome says so in Idempotent-Replayed") {
    const auto r = detail::answer(commands::accepted{core::stream_version{2}, core::log_position{1, 2}, {}, true, 1},
                                  product_route());
    CHECK(r.status == 200);
    CHECK(header_of(r, "Idempotent-Replayed") == "true");
  }

  TEST_CASE("a command that changed nothing answers a null position and no X-Position") {
    const auto r = detail::answer(commands::accepted{core::stream_version{4}, std::nullopt, {}, false, 1}, product_route());
    CHECK(r.status == 200);
    CHECK(body_of(r).at("position").is_null());
    CHECK_FALSE(header_of(r, "X-Position"));
    CHECK(header_of(r, "ETag") == "\"4\"");
  }

  TEST_CASE("an invalid value answers 400 with the aggregate's code and the request field") {
    const auto r = detail::answer(rejection(commands::product::errc::invalid_price), product_route());
    CHECK(r.status == 400);
    CHECK(header_of(r, "Content-Type") == "application/problem+json");
    CHECK(body_of(r).at("code").as_string() == "product.invalid_price");
    CHECK(body_of(r).at("detail").as_string() == "why it was refused");
    CHECK(fields_of(r) == std::vector<std::string>{"price.amount"});
  }

  TEST_CASE("invalid quantities and reservation ids name the field of the route they came in") {
    using commands::product::errc;
    CHECK(fields_of(detail::answer(rejection(errc::invalid_quantity), product_route("stock", true))) ==
          std::vector<std::string>{"stock"});
    auto by_path = product_route();
    by_path.aliases.push_back({"reservation_id", "rid"});
    CHECK(fields_of(detail::answer(rejection(errc::invalid_reservation_id), by_path)) == std::vector<std::string>{"rid"});
  }

  TEST_CASE("state rejections answer their mapped status without field errors") {
    using commands::product::errc;
    const std::vector<std::pair<errc, int>> cases{{errc::product_not_found, 404},  {errc::product_already_exists, 409},
                                                  {errc::sku_already_taken, 409},  {errc::insufficient_stock, 422},
                                                  {errc::product_discontinued, 422}, {errc::reservation_closed, 422}};
    for (const auto& [code, status] : cases) {
      CAPTURE(commands::product::to_string(code));
      const auto r = detail::answer(rejection(code), product_route());
      CHECK(r.status == status);
      CHECK(body_of(r).at("code").as_string() == commands::product::to_string(code));
      CHECK(fields_of(r).empty());
    }
  }

  TEST_CASE("a stale If-Match answers 412 with the current version as ETag") {
    const auto r = detail::answer(commands::version_conflict{core::stream_version{7}, true, 1}, product_route());
    CHECK(r.status == 412);
    CHECK(header_of(r, "ETag") == "\"7\"");
    CHECK(body_of(r).at("code").as_string() == "command.version_conflict");
    CHECK(body_of(r).at("detail").as_string().find("version 7") != std::string::npos);
  }

  TEST_CASE("retries running out under concurrent writers answer 409") {
    const auto r = detail::answer(commands::version_conflict{core::stream_version{9}, false, 16}, product_route());
    CHECK(r.status == 409);
    CHECK(header_of(r, "ETag") == "\"9\"");
  }

  TEST_CASE("a reused idempotency key answers 422 naming the header") {
    const auto r = detail::answer(commands::idempotency_key_reused{"k"}, product_route());
    CHECK(r.status == 422);
    CHECK(body_of(r).at("code").as_string() == "command.idempotency_key_reused");
    CHECK(fields_of(r) == std::vector<std::string>{"Idempotency-Key"});
  }

  TEST_CASE("a request the store refuses answers 400") {
    const auto r = detail::answer(
        commands::invalid_request{core::make_error(core::errc::invalid_metadata, "actor too long")}, product_route());
    CHECK(r.status == 400);
    CHECK(body_of(r).at("code").as_string() == "command.invalid_request");
  }

  TEST_CASE("an unreachable PostgreSQL answers 503 dependency_unavailable with Retry-After") {
    worker_settings settings;
    settings.pg_url = "postgresql://cqrs@127.0.0.1:1/none?connect_timeout=1";
    settings.redis_url = "redis://127.0.0.1:1/0";
    worker_context workers(settings);
    auto command = command_of(call{R"({"quantity":1})"}.to(detail::prepare_restock));
    const auto s = detail::execute(workers, command);
    const auto& r = std::get<http_response>(s);
    CHECK(r.status == 503);
    CHECK(header_of(r, "Retry-After") == "1");
    CHECK(body_of(r).at("code").as_string() == "dependency_unavailable");
  }

  TEST_CASE("a commit in doubt answers 503 telling the client to retry with the same Idempotency-Key") {
    const auto r = detail::unavailable(core::failure_kind::in_doubt, true);
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(header_of(*r, "Retry-After") == "1");
    const auto detail = std::string(body_of(*r).at("detail").as_string());
    CHECK(detail.find("outcome is unknown") != std::string::npos);
    CHECK(detail.find("same Idempotency-Key") != std::string::npos);
  }

  TEST_CASE("a failing statement is not the client's to retry: it is left to the router's 500") {
    CHECK_FALSE(detail::unavailable(core::failure_kind::statement, true));
    CHECK_FALSE(detail::unavailable(core::failure_kind::unexpected, false));
    CHECK(detail::unavailable(core::failure_kind::transient, false)->status == 503);
  }
}
