#pragma once

// Helpers shared by the suites that run against PostgreSQL (tests/pg, tests/pg_write): a random
// id per run, so reruns on one database pass, and reading a stream back.

#include <string>
#include <vector>

#include "core/event_store.hpp"

namespace cqrs::tests {

// Random per process: `[a-z0-9]{10}`, usable inside a category or a SKU.
const std::string& run_id();

// Every event of a stream in version order, read in batches of 100.
std::vector<core::recorded_event> whole_stream(core::event_store& store, const core::stream_id& stream);

}  // namespace cqrs::tests
