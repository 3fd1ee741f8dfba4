#pragma once

// The command pipeline for payments. Instantiated once, in payment_pipeline.cpp, so that users of this
// header do not compile the pipeline template again.

#include "commands/command_pipeline.hpp"
#include "commands/payment/payment_aggregate.hpp"

namespace cqrs::commands {

extern template class command_pipeline<payment::payment_aggregate>;

}  // namespace cqrs::commands

namespace cqrs::commands::payment {

using payment_pipeline = command_pipeline<payment_aggregate>;
using payment_envelope = command_envelope<schemas::payment_command>;
using payment_outcome = command_outcome<rejection>;

}  // namespace cqrs::commands::payment
