#include "commands/payment/payment_domain.hpp"

#include "commands/payment/payment_aggregate.hpp"

namespace cqrs::commands::payment {

void register_aggregates(aggregate_registry& registry) { registry.add<payment_aggregate>(to_json); }

// The card token is left out: `cqrs state` output ends up in terminals and tickets.
boost::json::object to_json(const payment_state& state) {
  boost::json::object refunds;
  for (const auto& [id, amount] : state.refunds) refunds[id.value()] = amount;
  return {{"status", to_string(state.status)},
          {"order_id", state.order.value()},
          {"amount", {{"amount_minor", state.amount.amount_minor}, {"currency", state.amount.currency.value()}}},
          {"charge_id", state.charge.value()},
          {"pending", state.pending},
          {"reason", state.reason},
          {"captured_minor", state.captured_minor},
          {"refunded_minor", state.refunded_minor},
          {"refunds", std::move(refunds)}};
}

}  // namespace cqrs::commands::payment
