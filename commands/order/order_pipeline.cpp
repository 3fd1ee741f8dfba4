#include "commands/order/order_pipeline.hpp"

namespace cqrs::commands {

static_assert(core::aggregate<order::order_aggregate>);
static_assert(stored_aggregate<order::order_aggregate>);

template class command_pipeline<order::order_aggregate>;

}  // namespace cqrs::commands
