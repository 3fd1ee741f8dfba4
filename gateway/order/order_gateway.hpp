#pragma once

// The Order domain's part of the gateway: its command routes (order_routes.hpp) and its read
// routes (order_query_routes.hpp).

#include "gateway/domain.hpp"

namespace cqrs::gateway {

gateway_domain order_gateway();

}  // namespace cqrs::gateway
