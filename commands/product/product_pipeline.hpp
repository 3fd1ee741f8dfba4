#pragma once

// The command pipeline for products. Instantiated once, in product_pipeline.cpp, so that users of
// this header do not compile the pipeline template again.

#include "commands/command_pipeline.hpp"
#include "commands/product/product_aggregate.hpp"

namespace cqrs::commands {

extern template class command_pipeline<product::product_aggregate>;

}  // namespace cqrs::commands

namespace cqrs::commands::product {

using product_pipeline = command_pipeline<product_aggregate>;
using product_envelope = command_envelope<schemas::product_command>;
using product_outcome = command_outcome<rejection>;

}  // namespace cqrs::commands::product
