#include "commands/user/user_pipeline.hpp"

namespace cqrs::commands {

static_assert(core::aggregate<user::user_aggregate>);
static_assert(stored_aggregate<user::user_aggregate>);
static_assert(releasing_aggregate<user::user_aggregate>);
static_assert(effecting_aggregate<user::user_aggregate>);

template class command_pipeline<user::user_aggregate>;

}  // namespace cqrs::commands
