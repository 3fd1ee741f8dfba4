#include "tests/e2e_orders/payment_streams.hpp"

#include <variant>

#include <doctest/doctest.h>

#include "commands/payment/payment_pipeline.hpp"
#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "schemas/contracts/catalog.hpp"
#include "tests/e2e_gateway/engine_processes.hpp"

namespace cqrs::tests {

void request_payment(const std::string& payment_id, const std::string& order_id, std::int64_t amount) {
  core::upcaster_registry upcasters;
  schemas::register_upcasters(upcasters);
  core::store_options options;
  options.url = stack_env("CQRS_PG_URL");
  options.upcasters = &upcasters;
  core::event_store store(options);
  commands::payment::payment_pipeline pipeline(store);
  commands::command_context context;
  context.actor = "e2e-order-process";
  const schemas::request_payment request{schemas::order_id(order_id), schemas::money{amount, schemas::currency_code("EUR")},
                                         schemas::card_token("tok_pending")};
  const auto outcome = pipeline.handle({core::stream_id::parse("payment-" + payment_id).value(),
                                        schemas::payment_command{request}, context});
  REQUIRE(std::holds_alternative<commands::accepted>(outcome));
}

}  // namespace cqrs::tests
