#pragma once

// A small process for the runtime's tests. Started by a `ptest.started` event (payload: a SKU) on
// a stream `ptest-<id>`: it creates product `product-<run id>_<id>` with that SKU and stock 5 and
// sets the deadline "timeout" (`timeout_ms` after). The deadline restocks the product by 1. A
// `ptest.effect` event asks for the effect "flaky" (payload: how many attempts fail before it
// answers "ok"; "forever": it never answers). The process records what reached it in its step.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "commands/processes/command_sender.hpp"
#include "commands/processes/process_definition.hpp"
#include "commands/processes/process_runtime.hpp"

namespace cqrs::tests::processes {

namespace rt = commands::processes;

// The test process's type: unique per run, so other runs' actions are not taken by this one.
std::string test_process_type();

// How often the effect performer ran, by every performer of the process (tests read it).
struct effect_counter {
  std::atomic<int> calls{0};
};

rt::registered_process test_process(std::chrono::milliseconds timeout, std::shared_ptr<effect_counter> counter);

// A sender for products.
rt::command_sender product_sender();

}  // namespace cqrs::tests::processes
