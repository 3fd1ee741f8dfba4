// The order fulfilment saga end to end below the gateway: orders placed and payments requested
// through the real order and payment pipelines (as the gateway does), the saga's runtime fed with
// the store's events as the consumer would feed it, its workers run round by round, and the real
// stand-in card processor (cqrs-payment-provider, over HTTPS) answering, with faults when asked.
// The provider's ledger is the proof of what was charged.

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <latch>
#include <map>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "commands/order/order_pipeline.hpp"
#include "commands/payment/payment_pipeline.hpp"
#include "commands/processes/order_fulfilment/fulfilment_effects.hpp"
#include "commands/processes/order_fulfilment/order_fulfilment.hpp"
#include "commands/processes/process_runtime.hpp"
#include "commands/product/product_pipeline.hpp"
#include "commands/product/product_state.hpp"
#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"
#include "tests/e2e_payment/provider_harness.hpp"
#include "tests/support/pg_helpers.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/stack.hpp"

namespace cqrs::tests::fulfilment {

namespace {

namespace rt = commands::processes;
namespace of = commands::processes::order_fulfilment;
namespace s = cqrs::schemas;
using namespace std::chrono_literals;

std::string describe_order(const commands::order::rejection& r) { return r.detail; }
std::string describe_payment(const commands::payment::rejection& r) { return r.detail; }

core::store_options options() {
  core::store_options o;
  o.url = pg_url();
  return o;
}

commands::command_context as_test() {
  commands::command_context context;
  context.actor = "test";
  return context;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

// Small resilience numbers, so that faults are met and retried in a moment.
commands::payment_provider::client_config client_for(const payment::provider_process& p) {
  commands::payment_provider::client_config c;
  c.url = fmt::format("https://127.0.0.1:{}", p.port());
  c.ca_file = stack_setting("CQRS_TLS_CA_FILE");
  c.resilience.retry.max_attempts = 2;
  c.resilience.retry.initial_backoff = 10ms;
  c.resilience.retry.max_backoff = 20ms;
  c.resilience.time_limit.call_timeout = 2000ms;
  c.resilience.breaker.window_size = 10;
  c.resilience.breaker.minimum_calls = 4;
  c.resilience.breaker.wait_in_open = 300ms;  // a failing provider parks the charge briefly
  return c;
}

struct world {
  payment::provider_process provider;
  core::event_store store{options()};
  core::metrics_registry registry;
  rt::processes_metrics metrics{registry};
  std::shared_ptr<commands::payment_provider::provider_client> client;
  std::unique_ptr<rt::process_runtime> runtime;
  rt::process_store worker{pg_url()};
  std::vector<std::unique_ptr<rt::effect_performer>> performers;
  core::log_position cursor = store.safe_head();
  std::set<std::string> mine;  // the streams of this test's orders and payments

  explicit world(std::chrono::milliseconds timeout = 15min, const payment::settings& provider_settings = {})
      : provider(provider_settings) {
    const core::logger log("test", core::log_level::error);
    client = std::make_shared<commands::payment_provider::provider_client>(client_for(provider), log);
    rt::command_sender sender;
    sender.add<commands::order::order_aggregate>(&s::decode_order_command, &describe_order);
    sender.add<commands::payment::payment_aggregate>(&s::decode_payment_command, &describe_payment);
    std::vector<rt::registered_process> processes;
    processes.push_back({std::make_unique<of::order_fulfilment>(timeout), std::make_unique<of::fulfilment_effects>(client)});
    rt::runtime_options o;
    o.pg_url = pg_url();
    o.retry.backoff.initial_backoff = 5ms;
    o.retry.backoff.max_backoff = 50ms;
    runtime = std::make_unique<rt::process_runtime>(o, std::move(processes), std::move(sender), log, metrics);
    performers = runtime->make_performers();
  }

  std::string product(const std::string& name, std::int64_t stock) {
    const auto id = run_id() + "_" + name;
    commands::product::product_pipeline products(store);
    const auto created = products.handle(
        {core::stream_id::parse("product-" + id).value(),
         s::create_product{s::sku(upper("F-" + id)), "Mug", "Holds tea", s::money{1250, s::currency_code("EUR")}, stock},
         as_test()});
    REQUIRE(std::holds_alternative<commands::accepted>(created));
    return id;
  }

  // Places the order and requests its payment, as the gateway does.
  std::string place(const std::string& name, const std::string& product_id, std::int64_t quantity,
                    const std::string& card) {
    const auto order_id = run_id() + "-" + name;
    const auto payment_id = "p" + order_id;
    const s::money price{1250, s::currency_code("EUR")};
    commands::order::order_pipeline orders(store);
    const auto placed = orders.handle(
        {core::stream_id::parse("order-" + order_id).value(),
         s::place_order{s::customer_id("customer-" + run_id()),
                        {s::order_line{s::product_id(product_id), s::quantity(quantity), price}},
                        s::shipping_address{"1 Main St", "Paris", "75001", "FR"},
                        s::payment_id(payment_id),
                        s::card_token(card)},
         as_test()});
    REQUIRE(std::holds_alternative<commands::accepted>(placed));
    commands::payment::payment_pipeline payments(store);
    const auto requested = payments.handle({core::stream_id::parse("payment-" + payment_id).value(),
                                            s::request_payment{s::order_id(order_id),
                                                               s::money{1250 * quantity, s::currency_code("EUR")},
                                                               s::card_token(card)},
                                            as_test()});
    REQUIRE(std::holds_alternative<commands::accepted>(requested));
    mine.insert("order-" + order_id);
    mine.insert("payment-" + payment_id);
    return order_id;
  }

  // One round: new events of this test to the runtime, then one worker round.
  void pump() {
    for (;;) {
      const auto batch = store.read_all(cursor, 500).value();
      for (const auto& e : batch.events) {
        if (mine.contains(e.stream.str())) runtime->handle(e);
      }
      cursor = batch.next;
      if (batch.events.size() < 500) break;
    }
    runtime->work_once(worker, store, performers);
  }

  std::string order_status(const std::string& order_id) {
    const auto events = whole_stream(store, core::stream_id::parse("order-" + order_id).value());
    return events.empty() ? "" : events.back().type;
  }

  bool reaches(const std::string& order_id, const std::string& type, std::chrono::milliseconds limit = 30s) {
    return eventually(
        [&] {
          pump();
          return order_status(order_id) == type;
        },
        limit);
  }

  commands::product::product_state product_state(const std::string& id) {
    commands::product::product_pipeline products(store);
    return products.load(core::stream_id::parse("product-" + id).value()).state;
  }

  // The ledger's entries of one payment, by status.
  std::multiset<std::string> charges(const std::string& order_id) {
    const auto r = payment::call(provider.port(), "GET", "/_admin/ledger");
    REQUIRE(r.status == 200);
    std::multiset<std::string> out;
    const auto ledger = r.json();
    for (const auto& c : ledger.at("charges").as_array()) {
      if (c.at("payment_id").as_string() == "p" + order_id) out.insert(std::string(c.at("status").as_string()));
    }
    return out;
  }

  // The ledger's entry of the order's payment (its only charge).
  boost::json::object charge_of(const std::string& order_id) {
    const auto r = payment::call(provider.port(), "GET", "/_admin/ledger");
    REQUIRE(r.status == 200);
    const auto ledger = r.json();
    for (const auto& c : ledger.at("charges").as_array()) {
      if (c.at("payment_id").as_string() == "p" + order_id) return c.as_object();
    }
    FAIL("no charge for " << order_id);
    return {};
  }

  // What an operator does at the processor, outside the engine (keys of their own).
  void at_processor(const std::string& method_path, const std::string& body, const std::string& key) {
    const auto space = method_path.find(' ');
    const auto r = payment::call(provider.port(), method_path.substr(0, space), method_path.substr(space + 1), body, key);
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }

  // The saga's row for the order: stuck, and the outcome of its reconciliation.
  std::pair<bool, std::string> process_of(const std::string& order_id) {
    pqxx::connection c(pg_url());
    pqxx::work tx(c);
    const auto stuck = tx.exec_params1(
        "SELECT stuck FROM process_instances WHERE process_type = 'order_fulfilment' AND process_id = $1", order_id);
    const auto outcome = tx.exec_params(
        "SELECT coalesce(outcome, status) FROM process_actions WHERE process_type = 'order_fulfilment' "
        "AND process_id = $1 AND key = 'reconcile'",
        order_id);
    return {stuck[0].as<bool>(), outcome.empty() ? std::string() : outcome[0][0].as<std::string>()};
  }

  void faults(const std::string& json) {
    const auto r = payment::call(provider.port(), "PUT", "/_admin/faults", json);
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
};

}  // namespace

TEST_CASE("a placed order is reserved, charged, captured, committed and paid; one captured charge") {
  world w;
  const auto product = w.product("happy", 10);
  const auto order = w.place("happy", product, 2, "tok_ok");
  REQUIRE(w.reaches(order, "order.paid"));
  CHECK(w.charges(order) == std::multiset<std::string>{"captured"});
  const auto stock = w.product_state(product);
  CHECK(stock.on_hand == 8);
  CHECK(stock.reserved == 0);
  const auto paid = whole_stream(w.store, core::stream_id::parse("order-" + order).value()).back();
  CHECK(paid.metadata.actor == std::string(rt::runtime_actor));
  CHECK(paid.metadata.correlation_id.has_value());
}

TEST_CASE("a declined card fails the payment and the order, and the reservation is released") {
  world w;
  const auto product = w.product("decline", 10);
  const auto order = w.place("decline", product, 3, "tok_decline");
  REQUIRE(w.reaches(order, "order.payment_failed"));
  CHECK(w.charges(order) == std::multiset<std::string>{"declined"});
  const auto stock = w.product_state(product);
  CHECK(stock.on_hand == 10);
  CHECK(stock.reserved == 0);
}

TEST_CASE("an order for more than the stock is rejected and nothing is charged") {
  world w;
  const auto product = w.product("short", 1);
  const auto order = w.place("short", product, 5, "tok_ok");
  REQUIRE(w.reaches(order, "order.rejected"));
  for (int i = 0; i < 20; ++i) w.pump();
  CHECK(w.charges(order).empty());
  CHECK(w.product_state(product).reserved == 0);
}

TEST_CASE("answers lost by the provider are retried with the same keys: paid, one captured charge") {
  world w;
  w.faults(R"({"lose_answer_rate": 0.5, "seed": 7})");
  const auto product = w.product("lossy", 10);
  const auto order = w.place("lossy", product, 1, "tok_ok");
  REQUIRE(w.reaches(order, "order.paid", 60s));
  w.faults("{}");
  CHECK(w.charges(order) == std::multiset<std::string>{"captured"});
  CHECK(w.product_state(product).on_hand == 9);
}

TEST_CASE("a payment not captured by its deadline expires the order, and the charge is undone") {
  world w(1500ms);
  w.faults(R"({"error_rate": 1.0})");  // the provider keeps failing: the charge is retried, never failed
  const auto product = w.product("late", 10);
  const auto order = w.place("late", product, 1, "tok_ok");
  for (int i = 0; i < 50 && w.order_status(order) != "order.stock_reserved"; ++i) w.pump();
  REQUIRE(w.reaches(order, "order.expired", 30s));
  w.faults("{}");
  CHECK(eventually(
      [&] {
        w.pump();
        return w.product_state(product).reserved == 0;
      },
      30s));
  for (int i = 0; i < 20; ++i) w.pump();
  const auto charges = w.charges(order);
  CHECK(charges.count("captured") == 0);
  CHECK(w.product_state(product).on_hand == 10);
}

// The charge's answers are lost, so the saga never learns of it; the deadline expires the order and
// its reconciliation finds the charge. Before that, `at_processor` moves the charge on.
void expire_with_a_charge_nobody_heard_of(world& w, const std::string& name) {
  w.faults(R"({"lose_answer_rate": 1.0})");  // the processor charges, and every answer is lost
  const auto product = w.product(name, 10);
  const auto order = w.place(name, product, 2, "tok_ok");
  REQUIRE(w.reaches(order, "order.expired", 30s));
  w.faults("{}");
}

TEST_CASE("an expired order's charge, captured and partly refunded at the processor, gets back only what remains") {
  world w(1500ms);
  const auto name = std::string("partial");
  expire_with_a_charge_nobody_heard_of(w, name);
  const auto order = run_id() + "-" + name;
  const auto id = std::string(w.charge_of(order).at("id").as_string());
  w.at_processor("POST /v1/charges/" + id + "/capture", "{}", "operator:capture:" + order);
  w.at_processor("POST /v1/charges/" + id + "/refunds", R"({"amount": 700})", "operator:refund:" + order);
  REQUIRE(w.charge_of(order).at("status").as_string() == "partially_refunded");

  REQUIRE(eventually(
      [&] {
        w.pump();
        return w.process_of(order).second.starts_with("undone:");
      },
      30s));
  const auto charge = w.charge_of(order);
  CHECK(charge.at("status").as_string() == "refunded");
  CHECK(charge.at("amount_refunded").as_int64() == 2500);  // 700 by the operator, 1800 by the saga
  const auto [stuck, outcome] = w.process_of(order);
  CHECK_FALSE(stuck);
  CHECK(outcome == "undone:refunded:" + id);
  CHECK(w.order_status(order) == "order.expired");
}

TEST_CASE("an expired order's charge already wholly refunded at the processor is settled as it is") {
  world w(1500ms);
  const auto name = std::string("refunded");
  expire_with_a_charge_nobody_heard_of(w, name);
  const auto order = run_id() + "-" + name;
  const auto id = std::string(w.charge_of(order).at("id").as_string());
  w.at_processor("POST /v1/charges/" + id + "/capture", "{}", "operator:capture:" + order);
  w.at_processor("POST /v1/charges/" + id + "/refunds", "{}", "operator:refund:" + order);

  REQUIRE(eventually(
      [&] {
        w.pump();
        return !w.process_of(order).second.empty() && w.process_of(order).second != "pending";
      },
      30s));
  const auto [stuck, outcome] = w.process_of(order);
  CHECK_FALSE(stuck);
  CHECK(outcome == "settled:refunded:" + id);
  CHECK(w.charge_of(order).at("amount_refunded").as_int64() == 2500);
}

TEST_CASE("a pending charge waits for the provider's webhook, then is captured and the order paid") {
  world w(15min, {{"CQRS_PAYMENT_PROVIDER_SETTLE_DELAY_MS", "200"}});
  const auto product = w.product("pending", 10);
  const auto order = w.place("pending", product, 1, "tok_pending");
  const auto payment_stream = core::stream_id::parse("payment-p" + order).value();
  std::string charge;
  REQUIRE(eventually(
      [&] {
        w.pump();
        for (const auto& e : whole_stream(w.store, payment_stream)) {
          if (e.type == "payment.pending") {
            charge = std::get<s::payment_pending>(s::decode_payment_event(e.type, e.schema_version, e.payload)).charge.value();
          }
        }
        return !charge.empty();
      },
      30s));
  for (int i = 0; i < 10; ++i) w.pump();
  CHECK(w.order_status(order) == "order.stock_reserved");  // waiting, not failed
  // The webhook, as the gateway turns it into a command once the provider settled the charge.
  REQUIRE(eventually([&] { return w.charges(order) == std::multiset<std::string>{"authorized"}; }, 10s));
  commands::payment::payment_pipeline payments(w.store);
  auto webhook = as_test();
  webhook.idempotency_key = "evt-" + order;
  const auto authorized = payments.handle({payment_stream, s::authorize_payment{s::charge_id(charge)}, webhook});
  REQUIRE(std::holds_alternative<commands::accepted>(authorized));
  REQUIRE(w.reaches(order, "order.paid"));
  CHECK(w.charges(order) == std::multiset<std::string>{"captured"});
}

TEST_CASE("an order placed and its payment requested, handled at once by two workers: both reach the saga, paid") {
  // Each event starts the saga's instance; on two partitions, two workers handle them at the same
  // moment. Neither reaction may be lost (the later one overwriting the earlier).
  world w;
  const auto product = w.product("race", 1000);
  const of::order_fulfilment saga(15min);
  rt::process_store first{pg_url()};
  rt::process_store second{pg_url()};
  std::vector<std::string> orders;
  for (int i = 0; i < 20; ++i) orders.push_back(w.place(fmt::format("race{}", i), product, 1, "tok_ok"));
  std::map<std::string, core::recorded_event> placed;
  std::map<std::string, core::recorded_event> requested;
  core::log_position from = w.cursor;
  REQUIRE(eventually(  // the log is read up to its safe head, which may trail the appends briefly
      [&] {
        const auto batch = w.store.read_all(from, 500).value();
        for (const auto& e : batch.events) {
          if (e.type == "order.placed" && w.mine.contains(e.stream.str())) placed.emplace(e.stream.str().substr(6), e);
          if (e.type == "payment.requested" && w.mine.contains(e.stream.str())) requested.emplace(e.stream.str().substr(8), e);
        }
        from = batch.next;
        return placed.size() == orders.size() && requested.size() == orders.size();
      },
      10s));
  for (const auto& order : orders) {
    REQUIRE(placed.contains(order));
    REQUIRE(requested.contains("p" + order));
    std::latch go(2);
    std::jthread one([&] {
      go.arrive_and_wait();
      first.handle_event(saga, placed.at(order));
    });
    std::jthread other([&] {
      go.arrive_and_wait();
      second.handle_event(saga, requested.at("p" + order));
    });
  }
  // The runtime sees the same events again (duplicates) and works the instances on.
  for (const auto& order : orders) CHECK_MESSAGE(w.reaches(order, "order.paid", 20s), order);
  for (const auto& order : orders) CHECK(w.charges(order) == std::multiset<std::string>{"captured"});
}

}  // namespace cqrs::tests::fulfilment
