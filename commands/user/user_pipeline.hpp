#pragma once

// The command pipeline for users. Instantiated once, in user_pipeline.cpp, so that users of this
// header do not compile the pipeline template again.

#include "commands/command_pipeline.hpp"
#include "commands/user/user_aggregate.hpp"

namespace cqrs::commands {

extern template class command_pipeline<user::user_aggregate>;

}  // namespace cqrs::commands

namespace cqrs::commands::user {

using user_pipeline = command_pipeline<user_aggregate>;
using user_envelope = command_envelope<schemas::user_command>;
using user_outcome = command_outcome<rejection>;

}  // namespace cqrs::commands::user
