#include "commands/order/order_domain.hpp"

#include <boost/json/array.hpp>

#include "commands/order/order_aggregate.hpp"
#include "schemas/contracts/detail/contract_json.hpp"

namespace cqrs::commands::order {

namespace {

using schemas::detail::json_fields_writer;

boost::json::object refunds_json(const std::map<schemas::refund_id, std::int64_t>& refunds) {
  boost::json::object all;
  for (const auto& [id, amount] : refunds) all[id.value()] = amount;
  return all;
}

}  // namespace

void register_aggregates(aggregate_registry& registry) { registry.add<order_aggregate>(to_json); }

boost::json::object to_json(const order_state& state) {
  return {{"status", to_string(state.status)},
          {"customer_id", state.customer.value()},
          {"lines", json_fields_writer::value_of(state.lines)},
          {"total", json_fields_writer::value_of(state.total)},
          {"shipping_address", json_fields_writer::value_of(state.address)},
          {"payment_id", state.payment.value()},
          {"reason", state.reason},
          {"cancelled_by", state.cancelled_by},
          {"refund_needed", state.refund_needed},
          {"refunded_minor", state.refunded_minor},
          {"requested_refunds", refunds_json(state.requested_refunds)},
          {"recorded_refunds", refunds_json(state.recorded_refunds)}};
}

}  // namespace cqrs::commands::order
