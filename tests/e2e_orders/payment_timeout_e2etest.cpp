// The payment deadline end to end, over real HTTPS: the engine of engine_processes, a real
// cqrs-payment-provider that sends no webhook (its pending charges settle in silence), and a real
// cqrs-processes whose CQRS_ORDER_PAYMENT_TIMEOUT is 3 s. An order whose payment never settles as
// far as the engine knows ends `expired`: its payment failed, its stock released, and the charge
// made meanwhile voided at the provider (an authorization never outlives a failed order).

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
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

// The card processor (no webhook: CQRS_PAYMENT_WEBHOOK_URL unset; a pending charge becomes
// `authorized` after 500 ms and nobody is told) and the process managers with a 3 s payment
// deadline, started once for the binary after the engine.
saga_harness& shared_saga() {
  static std::unique_ptr<saga_harness> instance;
  if (!instance) {
    instance = std::make_unique<saga_harness>(
        payment::settings{{"CQRS_PAYMENT_PROVIDER_SETTLE_DELAY_MS", "500"}}, "timeout" + run_id(),
        fmt::format("{}/e2e-timeout-{}-processes.log", stack_env("CQRS_STACK_DIR"), run_id()),
        environment{{"CQRS_ORDER_PAYMENT_TIMEOUT", "3000"}});
  }
  return *instance;
}

struct timeout_fixture : gateway_fixture {
  order_api orders{engine};
  saga_harness& saga = shared_saga();
  session admin = orders.staff("admin");

  json::object settled(const std::string& id, const std::string& status) {
    return settled_order(orders, admin, id, status, [&] { return saga.diagnostics() + "\n" + engine.diagnostics(); });
  }

  // {available, reserved} of a product as stored, once reserved is `reserved` (within 60 s).
  std::pair<std::int64_t, std::int64_t> stock_once(const std::string& product, std::int64_t reserved) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    std::pair<std::int64_t, std::int64_t> last{-1, -1};
    while (std::chrono::steady_clock::now() < deadline) {
      const auto answer = orders.products().read(product, "consistency=strong");
      REQUIRE(answer.status == 200);
      const auto p = answer.json().as_object();
      last = {p.at("stock_available").to_number<std::int64_t>(), p.at("stock_reserved").to_number<std::int64_t>()};
      if (last.second == reserved) break;
      std::this_thread::sleep_for(100ms);
    }
    return last;
  }

  // The ledger entries of `payment_id` once every one is in a final status (within 60 s).
  std::vector<json::object> settled_ledger(const std::string& payment_id) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    auto entries = saga.ledger(payment_id);
    const auto open = [&] {
      for (const auto& e : entries) {
        const auto status = text_at(e, "status");
        if (status == "pending" || status == "authorized") return true;
      }
      return false;
    };
    while (open() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      entries = saga.ledger(payment_id);
    }
    return entries;
  }
};

}  // namespace

TEST_CASE_FIXTURE(timeout_fixture, "a payment that never settles expires the order, releases the stock, voids the charge") {
  auto alice = orders.customer();
  const auto product = orders.product(10, 1250);
  // tok_pending: the charge answers `pending`; it becomes authorized at the provider, and no
  // webhook ever tells the engine.
  const auto id = orders.placed(alice, {{product, 3}}, "tok_pending");
  const auto order = settled(id, "expired");
  CHECK(stock_once(product, 0) == std::pair<std::int64_t, std::int64_t>{10, 0});
  const auto entries = settled_ledger(payment_of(order));
  INFO(saga.diagnostics());
  REQUIRE(entries.size() == 1);
  CHECK(text_at(entries[0], "status") == "voided");
  const auto payment = orders.send(alice, "GET", "/v1/payments/" + payment_of(order));
  REQUIRE(payment.status == 200);
  CHECK(text_at(payment.json().as_object(), "status") == "failed");
}

// Last in the file: every call hangs meanwhile, which may open the client's breaker for a while.
TEST_CASE_FIXTURE(timeout_fixture,
                  "a charge the provider never answers expires the order and releases its stock at once; nothing is charged") {
  auto alice = orders.customer();
  const auto product = orders.product(10, 1250);
  REQUIRE(saga.faults(R"({"hang_rate": 1})") == 200);
  const auto id = orders.placed(alice, {{product, 2}});
  const auto order = settled(id, "expired");
  // The stock is given back while the provider still hangs: the release does not wait for the
  // charge's reconciliation, which needs the provider.
  CHECK(stock_once(product, 0) == std::pair<std::int64_t, std::int64_t>{10, 0});
  REQUIRE(saga.faults("{}") == 200);
  // A hung call does nothing: no charge exists, or, made by a retry after the faults were
  // cleared, it was voided.
  for (const auto& entry : settled_ledger(payment_of(order))) CHECK(text_at(entry, "status") == "voided");
}

}  // namespace cqrs::tests
