#include "commands/product/product_pipeline.hpp"

namespace cqrs::commands {

static_assert(core::aggregate<product::product_aggregate>);
static_assert(stored_aggregate<product::product_aggregate>);

template class command_pipeline<product::product_aggregate>;

}  // namespace cqrs::commands
