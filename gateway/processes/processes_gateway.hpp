#pragma once

// The process managers' part of the gateway: what operators see of them (docs/processes.md).
// GET /v1/admin/processes?state=&stuck=true&limit=&after= (admin only) lists processes with their
// step, deadline, last error and whether they are stuck; GET /v1/admin/processes/{id} shows one
// with its actions and deadlines. Read from PostgreSQL on the pool, never on an I/O thread.

#include "gateway/domain.hpp"

namespace cqrs::gateway {

gateway_domain processes_gateway();

}  // namespace cqrs::gateway
