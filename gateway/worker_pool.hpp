#pragma once

// A bulkhead: a fixed number of threads, each owning a worker_context (its own connections), and a
// bounded queue. try_submit() never blocks and never queues without bound: when every thread is
// busy and the queue is full it returns false, and the caller answers 503 with Retry-After.
// Jobs run in submission order; a job's exceptions are the job's business (it must catch).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
  std::size_t busy() const;
  std::size_t queued() const;

 private:
  void run(std::stop_token stop);

  pool_kind kind_;
  std::size_t queue_limit_;
  const worker_settings& settings_;
  http_metrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<job> jobs_;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::jthread> threads_;
};

}  // namespace cqrs::gateway
