#pragma once

// The Product domain's part of the gateway: its command cache, its command and query routes.

#include "gateway/domain.hpp"

namespace cqrs::gateway {

gateway_domain product_gateway();

}  // namespace cqrs::gateway
