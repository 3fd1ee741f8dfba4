#pragma once

// The User domain's part of the gateway: its user and sign-in routes (user_routes.hpp). Without
// personal-data keys (CQRS_PII_MASTER_KEY_FILE unset) it adds no routes.

#include "gateway/domain.hpp"

namespace cqrs::gateway {

gateway_domain user_gateway();

}  // namespace cqrs::gateway
