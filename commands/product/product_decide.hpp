#pragma once

// The Product rules: given the state and a command, the events that follow or the rejection.
// Pure. The one rule it cannot check alone, SKU uniqueness across products, is enforced by the
// claim the pipeline writes with the `product.created` event (see product_aggregate.hpp).

#include "commands/product/product_errc.hpp"
#include "commands/product/product_state.hpp"
#include "core/aggregate.hpp"
#include "schemas/contracts/product/product_commands.hpp"
#include "schemas/contracts/product/product_events.hpp"

namespace cqrs::commands::product {

using product_decision = core::decision<schemas::product_event, rejection>;

product_decision decide(const product_state& state, const schemas::product_command& command);

}  // namespace cqrs::commands::product
