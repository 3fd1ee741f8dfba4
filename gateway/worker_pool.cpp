#include "gateway/worker_pool.hpp"

#include <chrono>
#include <variant>

#include "gateway/http_metrics.hpp"

namespace cqrs::gateway {

namespace {

std::unique_ptr<core::resilience::telemetry> pool_series(pool_kind kind, http_metrics* metrics) {
  if (metrics == nullptr) return nullptr;
  return std::make_unique<core::resilience::telemetry>(worker_pool::instance_name(kind), metrics->registry(),
                                                       core::logger("cqrs-gateway"), 1);
}

}  // namespace

std::string worker_pool::instance_name(pool_kind kind) { return "gateway_" + std::string(to_string(kind)); }

worker_pool::worker_pool(pool_kind kind, int threads, std::size_t queue_limit, const worker_settings& settings,
                         http_metrics* metrics)
    : kind_(kind),
      settings_(settings),
      metrics_(metrics),
      telemetry_(pool_series(kind, metrics)),
      bulkhead_(core::resilience::bulkhead_config{static_cast<std::uint32_t>(threads),
                                                  static_cast<std::uint32_t>(queue_limit), std::chrono::milliseconds(0)},
                telemetry_.get()) {
  threads_.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this](std::stop_token stop) { run(stop); });
  }
}

worker_pool::~worker_pool() { stop(); }

bool worker_pool::try_submit(job j) {
  // A job may wait only if an idle thread will take it at once or the queue has room (the
  // bulkhead counts both); anything more would be an unbounded queue in disguise.
  auto admitted = bulkhead_.try_enqueue();
  auto* slot = std::get_if<core::resilience::bulkhead::slot>(&admitted);
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || slot == nullptr) {
      if (metrics_ != nullptr) metrics_->pool_refused(kind_);
      return false;
    }
    jobs_.push_back(admitted_job{std::move(j), std::move(*slot)});
    if (metrics_ != nullptr) metrics_->pool_state(kind_, busy_, jobs_.size());
  }
  // After unlocking: a thread woken while the lock is still held would only wake to sleep again
  // on the mutex. The pool outlives every submitter, so the late notification is safe.
  wake_.notify_one();
  return true;
}

void worker_pool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  // Joined here rather than in the destructor so that a caller can be sure no job still runs
  // (jobs complete into the HTTP server, which must not be gone by then).
  for (auto& thread : threads_) {
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
  }
}

std::size_t worker_pool::busy() const {
  std::lock_guard lock(mutex_);
  return busy_;
}

std::size_t worker_pool::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

void worker_pool::run(std::stop_token stop) {
  // Built on this thread: its connections belong to this thread only (libpqxx's rule).
  worker_context context(settings_);
  std::unique_lock lock(mutex_);
  for (;;) {
    // stop() drains the queue first; the stop token (the destructor of a pool whose stop() was
    // never reached, e.g. during unwinding) ends at once.
    wake_.wait(lock, stop, [this] { return !jobs_.empty() || stopping_; });
    if (jobs_.empty() || stop.stop_requested()) return;
    auto next = std::move(jobs_.front());
    jobs_.pop_front();
    next.slot.start();
    ++busy_;
    if (metrics_ != nullptr) metrics_->pool_state(kind_, busy_, jobs_.size());
    lock.unlock();
    try {
      next.work(context);
    } catch (...) {
      // A job must catch its own exceptions (see the header); a thread of the pool must survive
      // one that does not.
    }
    next.work = nullptr;  // its captures (e.g. a completion) go before the thread reports itself idle
    lock.lock();
    --busy_;
    { [[maybe_unused]] const auto done = std::move(next.slot); }  // the slot is free again
    if (metrics_ != nullptr) metrics_->pool_state(kind_, busy_, jobs_.size());
  }
}

}  // namespace cqrs::gateway
