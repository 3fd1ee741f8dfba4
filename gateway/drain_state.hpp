#pragma once

// Whether the gateway is draining: set once, when it has been asked to stop (SIGTERM or SIGINT).
// From then on /readyz answers 503 (a load balancer's health check takes the gateway out of
// rotation), every response closes its connection (a balancer's kept-alive connections end after
// the request in flight), and the server keeps accepting for the drain delay
// (CQRS_HTTP_DRAIN_DELAY_MS) before it stops accepting and finishes the requests in flight.
// Shared by the server, which sets it, and the operations routes, which read it; lock-free.

#include <atomic>

namespace cqrs::gateway {

class drain_state {
 public:
  void begin() noexcept { draining_.store(true, std::memory_order_relaxed); }
  bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> draining_{false};
};

}  // namespace cqrs::gateway
