#include "commands/processes/order_fulfilment/order_fulfilment_domain.hpp"

#include <memory>

#include "commands/order/order_pipeline.hpp"
#include "commands/payment/payment_pipeline.hpp"
#include "commands/processes/order_fulfilment/fulfilment_effects.hpp"
#include "commands/processes/order_fulfilment/order_fulfilment.hpp"
#include "commands/payment_provider/provider_client.hpp"
#include "schemas/contracts/order/order_codec.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"

namespace cqrs::commands::processes::order_fulfilment {

namespace {

using namespace std::chrono_literals;

constexpr const char* timeout_variable = "CQRS_ORDER_PAYMENT_TIMEOUT";

template <typename Rejection>
std::string describe(const Rejection& r) {
  return std::string(to_string(r.code)) + ": " + r.detail;
}

}  // namespace

std::vector<core::setting_spec> order_fulfilment_settings() {
  std::vector<core::setting_spec> specs = {
      {timeout_variable, "900000",
       "milliseconds an order may wait for its payment before it expires (a pending charge included; 100-604800000)"},
  };
  const auto client = payment_provider::client_settings();
  specs.insert(specs.end(), client.begin(), client.end());
  return specs;
}

void add_order_fulfilment(process_catalog& catalog, const core::settings_source& source, const core::logger& log) {
  const auto timeout = source.milliseconds(timeout_variable, 900000ms, 100ms, 604800000ms);
  auto client = std::make_shared<payment_provider::provider_client>(payment_provider::load_client_config(source), log);
  catalog.sender.add<order::order_aggregate>(&schemas::decode_order_command, &describe<order::rejection>);
  catalog.sender.add<payment::payment_aggregate>(&schemas::decode_payment_command, &describe<payment::rejection>);
  catalog.processes.push_back({std::make_unique<order_fulfilment>(timeout), std::make_unique<fulfilment_effects>(client)});
  catalog.metrics_texts.push_back([client] { return client->metrics_text(); });
}

}  // namespace cqrs::commands::processes::order_fulfilment
