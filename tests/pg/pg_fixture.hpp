#pragma once

// Shared helpers of the pg suite: unique names per run, stores, events. run_id() and
// whole_stream() come from tests/support/pg_helpers.hpp (shared with the pg_write suite).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_store.hpp"
#include "tests/support/pg_helpers.hpp"

namespace cqrs::tests {

// A category of its own for one test: `<prefix>_<run id>`.
std::string unique_category(std::string_view prefix);

// `<category>-<id>`, known valid.
core::stream_id stream_in(std::string_view category, std::string_view id);

core::store_options store_options_for_tests();
std::unique_ptr<core::event_store> make_store(core::store_options options = store_options_for_tests());

core::new_event make_event(std::string type, std::string payload);

// Every event of a category in log order, read in batches of 100.
std::vector<core::recorded_event> whole_category(core::event_store& store, std::string_view category);

}  // namespace cqrs::tests
