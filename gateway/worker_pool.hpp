#pragma once

// A bulkhead: a fixed number of threads, each owning a worker_context (its own connections), and a
// bounded queue. try_submit() never blocks and never queues without bound: when every thread is
// busy and the queue is full it returns false, and the caller answers 503 with Retry-After.
// Jobs run in submission order; a job's exceptions are the job's business (it must catch).
//
// Admission is core::resilience's bulkhead (the threads are its slots, the queue its queue:
// bulkhead::try_enqueue), one mechanism with the password pool's; with `metrics` its series show
// as the resilience instance `gateway_postgres` or `gateway_redis` (instance_name()).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/resilience/bulkhead.hpp"
#include "core/resilience/telemetry.hpp"
#include "gateway/http_types.hpp"
#include "gateway/worker_context.hpp"

namespace cqrs::gateway {

class http_metrics;

class worker_pool {
 public:
  using job = std::function<void(worker_context&)>;

  worker_pool(pool_kind kind, int threads, std::size_t queue_limit, const worker_settings& settings,
              http_metrics* metrics = nullptr);
  ~worker_pool();  // stop(), then join
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  bool try_submit(job j);
  // Finishes the queued jobs, then ends the threads. Later submissions are refused.
  void stop();

  pool_kind kind() const { return kind_; }
  // The resilience instance: gateway_<kind>.
  static std::string instance_name(pool_kind kind);
  std::size_t busy() const;
  std::size_t queued() const;

 private:
  void run(std::stop_token stop);

  struct admitted_job {
    job work;
    core::resilience::bulkhead::slot slot;  // queued until a thread starts the job; freed after it
  };

  pool_kind kind_;
  const worker_settings& settings_;
  http_metrics* metrics_;
  std::unique_ptr<core::resilience::telemetry> telemetry_;  // with metrics_ only
  core::resilience::bulkhead bulkhead_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<admitted_job> jobs_;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::jthread> threads_;
};

}  // namespace cqrs::gateway
