#pragma once

// Every aggregate of every domain, for the tools that handle any stream (`cqrs state`). A domain
// joins by one line in domains.cpp calling its registration (in its folder's <domain>_domain.hpp).

#include "commands/aggregate_registry.hpp"

namespace cqrs::commands {

// Built on first use; read-only afterwards, so any thread may use it.
const aggregate_registry& aggregates();

}  // namespace cqrs::commands
