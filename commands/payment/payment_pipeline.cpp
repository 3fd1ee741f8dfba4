#include "commands/payment/payment_pipeline.hpp"

namespace cqrs::commands {

static_assert(core::aggregate<payment::payment_aggregate>);
static_assert(stored_aggregate<payment::payment_aggregate>);

template class command_pipeline<payment::payment_aggregate>;

}  // namespace cqrs::commands
