#include "tests/e2e_orders/saga_harness.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace cqrs::tests {

namespace json = boost::json;

std::string build_dir() {
  const char* dir = std::getenv("CQRS_BUILD_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "build";
}

payment::settings webhooks_to(engine_processes& engine) {
  return {{"CQRS_PAYMENT_WEBHOOK_SECRET", stack_env("CQRS_PAYMENT_WEBHOOK_SECRET")},
          {"CQRS_PAYMENT_WEBHOOK_URL", fmt::format("https://127.0.0.1:{}/v1/payments/provider-events", engine.http().port())},
          {"CQRS_PAYMENT_WEBHOOK_CA_FILE", stack_env("CQRS_TLS_CA_FILE")}};
}

json::object settled_order(order_api& orders, session& reader, const std::string& id, const std::string& status,
                           const std::function<std::string()>& diagnostics) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
  json::object last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto answer = orders.send(reader, "GET", "/v1/orders/" + id);
    if (answer.status == 200) {
      last = answer.json().as_object();
      if (text_at(last, "status") == status) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  FAIL("order " << id << " did not reach " << status << "; last read " << json::serialize(last) << "\n"
                << diagnostics());
  return last;
}

std::string payment_of(const json::object& order) { return text_at(order.at("payment").as_object(), "id"); }

namespace {

environment processes_environment(std::uint16_t provider_port, const std::string& group, const environment& more) {
  environment env{{"CQRS_PAYMENT_PROVIDER_URL", fmt::format("https://127.0.0.1:{}", provider_port)},
                  {"CQRS_PAYMENT_PROVIDER_CA_FILE", stack_env("CQRS_TLS_CA_FILE")},
                  {"CQRS_PROCESSES_GROUP", group},
                  {"CQRS_PROCESSES_POLL_MS", "50"}};
  env.insert(env.end(), more.begin(), more.end());
  return env;
}

}  // namespace

saga_harness::saga_harness(const payment::settings& provider_settings, const std::string& group,
                           const std::string& log_path, const environment& processes_settings)
    : provider_(provider_settings),
      processes_("processes", {build_dir() + "/commands/processes/cqrs-processes"},
                 processes_environment(provider_.port(), group, processes_settings), log_path) {}

std::vector<json::object> saga_harness::ledger(const std::string& payment_id) const {
  const auto answer = payment::call(provider_.port(), "GET", "/_admin/ledger");
  REQUIRE(answer.status == 200);
  const auto body = answer.json();
  std::vector<json::object> mine;
  for (const auto& charge : body.as_object().at("charges").as_array()) {
    if (charge.as_object().at("payment_id").as_string() == payment_id) mine.push_back(charge.as_object());
  }
  return mine;
}

unsigned saga_harness::faults(const std::string& body) const {
  return payment::call(provider_.port(), "PUT", "/_admin/faults", body).status;
}

std::string saga_harness::diagnostics() const { return processes_.log_tail(40) + "\n--- provider\n" + provider_.log(); }

}  // namespace cqrs::tests
