#pragma once

// Waiting in a test for what another thread does: true as soon as the condition holds, false when
// it still does not after `limit`.

#include <chrono>
#include <thread>

namespace cqrs::tests {

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

}  // namespace cqrs::tests
