// The order fulfilment process end to end, over real HTTPS: the gateway, relay and projector of
// engine_processes, plus a real cqrs-payment-provider (the test stack's certificate, webhooks to
// this gateway signed with the stack's CQRS_PAYMENT_WEBHOOK_SECRET) and a real cqrs-processes
// calling it (a consumer group of its own). Each scenario places an order as a customer and polls
// the order's read until the process has taken it to the awaited status (a bounded wait), then
// checks the provider's ledger and the products' stock.

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/e2e_gateway/gateway_fixture.hpp"
#include "tests/e2e_orders/order_api.hpp"
#include "tests/e2e_orders/saga_harness.hpp"

namespace cqrs::tests {

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// The card processor (webhooks to this gateway, pending charges settled after 300 ms) and the
// process managers, started once for the binary after the engine.
saga_harness& shared_saga(engine_processes& engine) {
  static std::unique_ptr<saga_harness> instance;
  if (!instance) {
    auto provider = webhooks_to(engine);
    provider.emplace_back("CQRS_PAYMENT_PROVIDER_SETTLE_DELAY_MS", "300");
    instance = std::make_unique<saga_harness>(provider, "saga" + run_id(),
                                              fmt::format("{}/e2e-saga-{}-processes.log", stack_env("CQRS_STACK_DIR"), run_id()));
  }
  return *instance;
}

struct saga_fixture : gateway_fixture {
  order_api orders{engine};
  saga_harness& saga = shared_saga(engine);
  session admin = orders.staff("admin");

  json::object settled(const std::string& id, const std::string& status) {
    return settled_order(orders, admin, id, status, [&] { return saga.diagnostics() + "\n" + engine.diagnostics(); });
  }

  // {available, reserved} of a product as stored (folded from its stream).
  std::pair<std::int64_t, std::int64_t> stock(const std::string& product) {
    const auto answer = orders.products().read(product, "consistency=strong");
    REQUIRE(answer.status == 200);
    const auto p = answer.json().as_object();
    return {p.at("stock_available").to_number<std::int64_t>(), p.at("stock_reserved").to_number<std::int64_t>()};
  }
};

}  // namespace

TEST_CASE_FIXTURE(saga_fixture, "a placed order is paid: one captured charge, the stock committed") {
  auto alice = orders.customer();
  const auto product = orders.product(10, 1250);
  const auto id = orders.placed(alice, {{product, 2}});
  const auto order = settled(id, "paid");
  const auto entries = saga.ledger(payment_of(order));
  REQUIRE(entries.size() == 1);
  CHECK(text_at(entries[0], "status") == "captured");
  CHECK(entries[0].at("amount").to_number<std::int64_t>() == 2500);
  CHECK(stock(product) == std::pair<std::int64_t, std::int64_t>{8, 0});
  const auto payment = orders.send(alice, "GET", "/v1/payments/" + payment_of(order));
  REQUIRE(payment.status == 200);
  CHECK(text_at(payment.json().as_object(), "status") == "captured");
}

TEST_CASE_FIXTURE(saga_fixture, "a declined card fails the payment and releases the stock") {
  auto alice = orders.customer();
  const auto product = orders.product(10, 1250);
  const auto id = orders.placed(alice, {{product, 3}}, "tok_decline");
  settled(id, "payment_failed");
  CHECK(stock(product) == std::pair<std::int64_t, std::int64_t>{10, 0});
}

TEST_CASE_FIXTURE(saga_fixture, "an order beyond the stock is rejected and nothing is charged") {
  auto alice = orders.customer();
  const auto product = orders.product(1, 1250);
  const auto other = orders.product(10, 300);
  const auto id = orders.placed(alice, {{other, 1}, {product, 2}});
  const auto order = settled(id, "rejected");
  CHECK(stock(product) == std::pair<std::int64_t, std::int64_t>{1, 0});
  CHECK(stock(other) == std::pair<std::int64_t, std::int64_t>{10, 0});
  // The process never charges a rejected order; give it the time a charge would take.
  std::this_thread::sleep_for(1s);
  CHECK(saga.ledger(payment_of(order)).empty());
}

TEST_CASE_FIXTURE(saga_fixture, "cancelling a paid order refunds the whole charge") {
  auto alice = orders.customer();
  const auto product = orders.product(10, 1250);
  const auto id = orders.placed(alice, {{product, 1}});
  const auto order = settled(id, "paid");
  const auto cancel = orders.send(alice, "POST", "/v1/orders/" + id + "/cancel");
  INFO(describe(cancel));
  REQUIRE(cancel.status == 200);
  settled(id, "refunded");
  const auto entries = saga.ledger(payment_of(order));
  REQUIRE(entries.size() == 1);
  CHECK(text_at(entries[0], "status") == "refunded");
  CHECK(entries[0].at("amount_refunded").to_number<std::int64_t>() == 1250);
  const auto payment = orders.send(alice, "GET", "/v1/payments/" + payment_of(order));
  REQUIRE(payment.status == 200);
  CHECK(text_at(payment.json().as_object(), "status") == "refunded");
  CHECK(payment.json().as_object().at("refunded").as_object().at("amount").to_number<std::int64_t>() == 1250);
}

TEST_CASE_FIXTURE(saga_fixture, "a pending charge is settled by the provider's webhook and the order is paid") {
  auto alice = orders.customer();
  const auto product = orders.product(10, 1250);
  const auto id = orders.placed(alice, {{product, 1}}, "tok_pending");
  const auto order = settled(id, "paid");
  const auto entries = saga.ledger(payment_of(order));
  REQUIRE(entries.size() == 1);
  CHECK(text_at(entries[0], "status") == "captured");
}

TEST_CASE_FIXTURE(saga_fixture, "a transition the lifecycle does not have is 422: delivering a paid order") {
  auto alice = orders.customer();
  const auto id = orders.placed(alice, {{orders.product(10, 1250), 1}});
  settled(id, "paid");
  const auto deliver = orders.send(admin, "POST", "/v1/orders/" + id + "/deliver");
  INFO(describe(deliver));
  CHECK(deliver.status == 422);
  CHECK(problem_code(deliver) == "order.invalid_transition");
  CHECK(orders.send(admin, "POST", "/v1/orders/" + id + "/ship").status == 200);
}

// Last in the file: the provider refuses every charge meanwhile, which may open the client's
// breaker for a while.
TEST_CASE_FIXTURE(saga_fixture, "operators list and show the order's process; customers may not; a bad filter is 400") {
  auto alice = orders.customer();
  const auto product = orders.product(5, 700);
  const auto id = orders.placed(alice, {{product, 1}});
  (void)settled(id, "paid");
  const auto listed = orders.send(admin, "GET", "/v1/admin/processes?limit=1000");
  REQUIRE(listed.status == 200);
  std::string found;
  const auto listing = listed.json();
  for (const auto& item : listing.as_object().at("items").as_array()) {
    const auto& p = item.as_object();
    if (text_at(p, "id").find(id) != std::string::npos) found = text_at(p, "id");
  }
  REQUIRE_MESSAGE(!found.empty(), "no process names order " << id << ": " << listed.body);
  const auto shown = orders.send(admin, "GET", "/v1/admin/processes/" + found);
  REQUIRE(shown.status == 200);
  const auto shown_body = shown.json();
  const auto& detail = shown_body.as_object().at("items").as_array().at(0).as_object();
  CHECK(detail.at("stuck").as_bool() == false);
  CHECK(orders.send(alice, "GET", "/v1/admin/processes").status == 403);
  const auto bad = orders.send(admin, "GET", "/v1/admin/processes?stuck=maybe");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("stuck") != std::string::npos);
}

TEST_CASE_FIXTURE(saga_fixture, "cancelling before the payment cancels the order and releases the stock") {
  auto alice = orders.customer();
  const auto product = orders.product(10, 1250);
  // Every charge answers 500 until the cancel: the process retries, the order stays unpaid.
  REQUIRE(saga.faults(R"({"error_rate": 1})") == 200);
  const auto id = orders.placed(alice, {{product, 4}});
  settled(id, "stock_reserved");
  const auto cancel = orders.send(alice, "POST", "/v1/orders/" + id + "/cancel");
  INFO(describe(cancel));
  CHECK(cancel.status == 200);
  REQUIRE(saga.faults("{}") == 200);
  settled(id, "cancelled");
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (stock(product).second != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  CHECK(stock(product) == std::pair<std::int64_t, std::int64_t>{10, 0});
}

}  // namespace cqrs::tests
