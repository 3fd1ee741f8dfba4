#pragma once

// The command pipeline for orders. Instantiated once, in order_pipeline.cpp, so that users of this
// header do not compile the pipeline template again.

#include "commands/command_pipeline.hpp"
#include "commands/order/order_aggregate.hpp"

namespace cqrs::commands {

extern template class command_pipeline<order::order_aggregate>;

}  // namespace cqrs::commands

namespace cqrs::commands::order {

using order_pipeline = command_pipeline<order_aggregate>;
using order_envelope = command_envelope<schemas::order_command>;
using order_outcome = command_outcome<rejection>;

}  // namespace cqrs::commands::order
