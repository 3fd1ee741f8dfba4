// The order and payment routes over real HTTPS (gateway, relay and projector as processes):
// placement and its refusals, the consistency token (header and cookie) that makes a session
// read its own writes, who may read what, a command the order's state refuses, and the card
// processor's webhook (forged, stale, replayed), with the payment read folded from the store.

#include <string>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "core/security/webhook_signature.hpp"
#include "tests/e2e_gateway/gateway_fixture.hpp"
#include "tests/e2e_orders/order_api.hpp"

namespace cqrs::tests {

namespace {

namespace json = boost::json;

struct orders_fixture : gateway_fixture {
  order_api orders{engine};
};

}  // namespace

TEST_CASE_FIXTURE(orders_fixture, "a placement with bad fields is refused with 400 naming each field, and writes nothing") {
  auto alice = orders.customer();
  const auto product = orders.product();
  const auto before = events_in_store();
  struct refusal {
    std::string body;
    std::vector<std::string> fields;
  };
  const std::vector<refusal> refusals{
      {R"({"shipping_address":{"line1":"a","city":"b","postal_code":"c","country":"d"},"payment":{"card_token":"tok_ok"}})",
       {"lines"}},
      {R"({"lines":[],"shipping_address":{"line1":"a","city":"b","postal_code":"c","country":"d"},"payment":{"card_token":"tok_ok"}})",
       {"lines"}},
      {fmt::format(R"({{"lines":[{{"product_id":"{}","quantity":"two"}}],"shipping_address":{{"line1":"a","city":"b","postal_code":"c"}},"payment":{{}}}})",
                   product),
       {"lines[0].quantity", "shipping_address.country", "payment.card_token"}},
      {fmt::format(R"({{"lines":[{{"product_id":"{}","quantity":1,"price":5}}],"shipping_address":{{"line1":"a","city":"b","postal_code":"c","country":"d"}},"payment":{{"card_token":"tok_ok"}},"coupon":"x"}})",
                   product),
       {"lines[0].price", "coupon"}},
      {place_body({{"no-such-product-" + run_id(), 1}}), {"lines[0].product_id"}},
  };
  for (const auto& r : refusals) {
    const auto answer = orders.send(alice, "POST", "/v1/orders", r.body);
    INFO(r.body << "\n" << describe(answer));
    CHECK(answer.status == 400);
    CHECK(answer.is_problem());
    for (const auto& field : r.fields) CHECK_MESSAGE(names_field(answer, field), field);
  }
  CHECK(events_in_store() == before);
}

TEST_CASE_FIXTURE(orders_fixture, "the order's own rules answer with the request field: a product twice, a zero quantity") {
  auto alice = orders.customer();
  const auto product = orders.product();
  const auto twice = orders.place(alice, {{product, 1}, {product, 2}});
  INFO(describe(twice));
  CHECK(twice.status >= 400);
  CHECK(twice.status < 500);
  CHECK(problem_code(twice).rfind("order.", 0) == 0);
  const auto zero = orders.place(alice, {{product, 0}});
  INFO(describe(zero));
  CHECK(zero.status == 400);
  CHECK(problem_code(zero).rfind("order.", 0) == 0);
}

TEST_CASE_FIXTURE(orders_fixture, "placing answers 202 with Location and the consistency token as header and cookie") {
  auto alice = orders.customer();
  const auto product = orders.product(100, 1250);
  const auto answer = orders.place(alice, {{product, 2}});
  INFO(describe(answer));
  REQUIRE(answer.status == 202);
  const auto id = text_at(answer.json().as_object(), "id");
  CHECK(answer.header("location") == "/v1/orders/" + id);
  const auto token = answer.header("consistency-token");
  REQUIRE(token.has_value());
  CHECK(token == text_at(answer.json().as_object(), "position"));
  const auto cookie = answer.header("set-cookie").value_or("");
  CHECK(cookie == "Consistency-Token=" + *token + "; Secure; HttpOnly; SameSite=Strict; Path=/");
}

TEST_CASE_FIXTURE(orders_fixture, "a customer reads their order as placed at once: the cookie makes the read wait") {
  auto alice = orders.customer();
  const auto product = orders.product(100, 1250);
  const auto other = orders.product(100, 300);
  const auto id = orders.placed(alice, {{product, 2}, {other, 1}});
  // No sleep, no polling: the session's cookie carries the placement's position.
  const auto order = orders.order(alice, id);
  CHECK(text_at(order, "id") == id);
  CHECK(order.at("customer_id").is_string());
  CHECK(order.at("lines").as_array().size() == 2);
  const auto& first = order.at("lines").as_array()[0].as_object();
  CHECK(text_at(first, "product_id") == product);
  CHECK(first.at("quantity").to_number<std::int64_t>() == 2);
  CHECK(first.at("unit_price").as_object().at("amount").to_number<std::int64_t>() == 1250);
  CHECK(order.at("total").as_object().at("amount").to_number<std::int64_t>() == 2 * 1250 + 300);
  CHECK(text_at(order.at("total").as_object(), "currency") == "EUR");
  CHECK(order.at("version").to_number<std::int64_t>() >= 1);
  CHECK(order.at("payment").as_object().at("id").is_string());
  CHECK(order.at("created_at").is_string());
}

TEST_CASE_FIXTURE(orders_fixture, "the Consistency-Token header works like the cookie, and a bad one is a 400 naming it") {
  auto alice = orders.customer();
  const auto id = orders.placed(alice, {{orders.product(), 1}});
  session header_only{alice.token, std::nullopt};
  const auto read = orders.send(header_only, "GET", "/v1/orders/" + id, std::nullopt, {{"Consistency-Token", *alice.cookie}});
  INFO(describe(read));
  CHECK(read.status == 200);
  const auto bad = orders.send(header_only, "GET", "/v1/orders/" + id, std::nullopt, {{"Consistency-Token", "nope"}});
  CHECK(bad.status == 400);
  CHECK(names_field(bad, "Consistency-Token"));
}

TEST_CASE_FIXTURE(orders_fixture, "another customer's order is 404; support and admin read it; no token is 401") {
  auto alice = orders.customer();
  auto bob = orders.customer();
  const auto id = orders.placed(alice, {{orders.product(), 1}});
  bob.cookie = alice.cookie;  // even waiting for the placement, it is not bob's
  const auto as_bob = orders.send(bob, "GET", "/v1/orders/" + id);
  CHECK(as_bob.status == 404);
  CHECK(problem_code(as_bob) == "resource_not_found");
  auto support = orders.staff("support");
  support.cookie = alice.cookie;
  CHECK(orders.send(support, "GET", "/v1/orders/" + id).status == 200);
  auto admin = orders.staff("admin");
  admin.cookie = alice.cookie;
  CHECK(orders.send(admin, "GET", "/v1/orders/" + id).status == 200);
  session anonymous{};
  CHECK(orders.send(anonymous, "GET", "/v1/orders/" + id).status == 401);
  // Cancelling someone else's order is 404 too, and changes nothing.
  CHECK(orders.send(bob, "POST", "/v1/orders/" + id + "/cancel").status == 404);
}

TEST_CASE_FIXTURE(orders_fixture, "a customer lists their own orders, newest first; support lists everyone's") {
  auto alice = orders.customer();
  auto bob = orders.customer();
  const auto product = orders.product();
  const auto first = orders.placed(alice, {{product, 1}});
  const auto second = orders.placed(alice, {{product, 2}});
  const auto bobs = orders.placed(bob, {{product, 3}});
  const auto mine = orders.send(alice, "GET", "/v1/orders?limit=1");
  INFO(describe(mine));
  REQUIRE(mine.status == 200);
  const auto page = mine.json().as_object();
  REQUIRE(page.at("items").as_array().size() == 1);
  CHECK(text_at(page.at("items").as_array()[0].as_object(), "id") == second);
  REQUIRE(page.at("next_cursor").is_string());
  const auto next = orders.send(alice, "GET", "/v1/orders?limit=1&cursor=" + text_at(page, "next_cursor"));
  REQUIRE(next.status == 200);
  CHECK(text_at(next.json().as_object().at("items").as_array()[0].as_object(), "id") == first);
  // Every item is an order as read alone: its payment with its id and status (null until the
  // payment's model has it, then `requested`: the placement requested it).
  for (const auto& item : {page.at("items").as_array()[0], next.json().as_object().at("items").as_array()[0]}) {
    const auto& payment = item.as_object().at("payment").as_object();
    CHECK(payment.at("id").is_string());
    REQUIRE(payment.contains("status"));
    CHECK((payment.at("status").is_null() || payment.at("status") == "requested"));
  }
  // Bob's own list does not have alice's orders; asking for alice's is refused.
  const auto bob_list = orders.send(bob, "GET", "/v1/orders").json().as_object();
  REQUIRE(bob_list.at("items").as_array().size() == 1);
  CHECK(text_at(bob_list.at("items").as_array()[0].as_object(), "id") == bobs);
  const auto alice_id = text_at(orders.order(alice, first), "customer_id");
  CHECK(orders.send(bob, "GET", "/v1/orders?customer_id=" + alice_id).status == 400);
  auto support = orders.staff("support");
  support.cookie = bob.cookie;
  const auto everyone = orders.send(support, "GET", "/v1/orders?status=placed&customer_id=" + alice_id);
  REQUIRE(everyone.status == 200);
  CHECK(everyone.json().as_object().at("items").as_array().size() == 2);
  const auto bad = orders.send(support, "GET", "/v1/orders?status=lost&cursor=%25%25");
  CHECK(bad.status == 400);
  CHECK(names_field(bad, "status"));
  CHECK(names_field(bad, "cursor"));
}

TEST_CASE_FIXTURE(orders_fixture, "list items carry their payment's status, the same as the order read alone") {
  auto alice = orders.customer();
  const auto order_id = orders.placed(alice, {{orders.product(100, 1250), 1}});
  const auto payment_id = text_at(orders.order(alice, order_id).at("payment").as_object(), "id");
  const auto settled = orders.webhook(order_api::provider_event(fmt::format("evt_{}_list", run_id()), payment_id, "captured"));
  INFO(describe(settled));
  REQUIRE(settled.status == 200);
  const auto token = settled.header("consistency-token");
  REQUIRE(token.has_value());
  // Waiting for the webhook's token: the list has the payment's new status.
  const auto listed = orders.send(alice, "GET", "/v1/orders", std::nullopt, {{"Consistency-Token", *token}});
  INFO(describe(listed));
  REQUIRE(listed.status == 200);
  const auto items = listed.json().as_object().at("items").as_array();
  REQUIRE(items.size() == 1);
  const auto& payment = items[0].as_object().at("payment").as_object();
  CHECK(text_at(payment, "id") == payment_id);
  CHECK(text_at(payment, "status") == "authorized");
  // Folded from the event store (the single read's Redis models wait for the order's stream only).
  const auto alone = orders.send(alice, "GET", "/v1/orders/" + order_id + "?consistency=strong");
  REQUIRE(alone.status == 200);
  CHECK(alone.json().as_object().at("payment") == items[0].as_object().at("payment"));
  CHECK(alone.json().as_object().at("status") == items[0].as_object().at("status"));
}

TEST_CASE_FIXTURE(orders_fixture, "shipping an order that is not paid is 422 naming its state") {
  auto alice = orders.customer();
  const auto id = orders.placed(alice, {{orders.product(), 1}});
  auto admin = orders.staff("admin");
  const auto ship = orders.send(admin, "POST", "/v1/orders/" + id + "/ship");
  INFO(describe(ship));
  CHECK(ship.status == 422);
  CHECK(problem_code(ship) == "order.invalid_transition");
  CHECK(ship.json().as_object().at("detail").as_string().find("placed") != std::string::npos);
  CHECK(orders.send(alice, "POST", "/v1/orders/" + id + "/ship").status == 403);
}

TEST_CASE_FIXTURE(orders_fixture, "a forged or stale webhook is 401 and a replayed one 409; the payment reads folded from the store") {
  auto alice = orders.customer();
  const auto order_id = orders.placed(alice, {{orders.product(100, 1250), 2}});
  const auto payment_id = text_at(orders.order(alice, order_id).at("payment").as_object(), "id");
  const auto event = fmt::format("evt_{}_1", run_id());
  const auto body = order_api::provider_event(event, payment_id, "captured");

  const auto forged = orders.webhook(body, 0, "not the stack's secret, not at all");
  CHECK(forged.status == 401);
  CHECK(problem_code(forged) == "webhook.bad_signature");
  const auto stale = orders.webhook(body, core::security::unix_now() - 3600);
  CHECK(stale.status == 401);
  CHECK(problem_code(stale) == "webhook.stale_signature");
  const auto unsigned_answer = engine.http().post("/v1/payments/provider-events", body);
  CHECK(unsigned_answer.status == 401);

  // A payment nobody requested: unknown, not recorded, so the provider's retry is acted on later.
  const auto unknown_body = order_api::provider_event(event, "no-such-payment-" + run_id(), "captured");
  const auto early = orders.webhook(unknown_body);
  CHECK(early.status == 404);
  CHECK(problem_code(early) == "webhook.unknown_payment");

  // The placement requested the payment (payment.request with the order's total).
  const auto requested = orders.send(alice, "GET", "/v1/payments/" + payment_id);
  INFO(describe(requested));
  REQUIRE(requested.status == 200);
  CHECK(text_at(requested.json().as_object(), "status") == "requested");
  // The provider signs every attempt anew, a second apart at least.
  const auto applied = orders.webhook(body, core::security::unix_now() + 1);
  INFO(describe(applied));
  REQUIRE(applied.status == 200);
  CHECK(text_at(applied.json().as_object(), "outcome") == "applied");
  CHECK(applied.header("consistency-token").has_value());
  // The same event again (signed anew, as the provider's retry would be): 409, nothing appended.
  const auto before = events_in_store();
  const auto replayed = orders.webhook(body, core::security::unix_now() + 2);
  CHECK(orders.webhook(body, core::security::unix_now() + 1).status == 409);  // the very same request
  CHECK(replayed.status == 409);
  CHECK(problem_code(replayed) == "webhook.replayed_event");
  CHECK(events_in_store() == before);

  const auto payment = orders.send(alice, "GET", "/v1/payments/" + payment_id);
  INFO(describe(payment));
  REQUIRE(payment.status == 200);
  const auto p = payment.json().as_object();
  CHECK(text_at(p, "order_id") == order_id);
  CHECK(text_at(p, "status") == "authorized");
  CHECK(p.at("amount").as_object().at("amount").to_number<std::int64_t>() == 2500);
  CHECK(p.at("refunded").as_object().at("amount").to_number<std::int64_t>() == 0);
  auto bob = orders.customer();
  CHECK(orders.send(bob, "GET", "/v1/payments/" + payment_id).status == 404);
  auto admin = orders.staff("admin");
  CHECK(orders.send(admin, "GET", "/v1/payments/" + payment_id).status == 200);
}

TEST_CASE_FIXTURE(orders_fixture, "a placement requests its payment once: a retry with the same Idempotency-Key replays both") {
  auto alice = orders.customer();
  const auto product = orders.product(100, 700);
  const auto body = place_body({{product, 3}}, "tok_ok");
  const http_headers key{{"Idempotency-Key", "place-" + run_id()}};
  const auto first = orders.send(alice, "POST", "/v1/orders", body, key);
  INFO(describe(first));
  REQUIRE(first.status == 202);
  const auto order_id = text_at(first.json().as_object(), "id");
  const auto payment_id = text_at(orders.order(alice, order_id).at("payment").as_object(), "id");
  const auto before = events_in_store();
  const auto again = orders.send(alice, "POST", "/v1/orders", body, key);
  INFO(describe(again));
  CHECK(again.status == 202);
  CHECK(text_at(again.json().as_object(), "id") == order_id);
  CHECK(events_in_store() == before);
  const auto payment = orders.send(alice, "GET", "/v1/payments/" + payment_id);
  INFO(describe(payment));
  REQUIRE(payment.status == 200);
  const auto p = payment.json().as_object();
  CHECK(text_at(p, "order_id") == order_id);
  CHECK(text_at(p, "status") == "requested");
  CHECK(p.at("amount").as_object().at("amount").to_number<std::int64_t>() == 2100);
  CHECK(text_at(p.at("amount").as_object(), "currency") == "EUR");
}

}  // namespace cqrs::tests
