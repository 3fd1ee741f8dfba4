#include "core/security/password_pool.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <variant>

#include <sodium.h>

namespace cqrs::core::security {

namespace {

// The password leaves memory with the job that used it.
void wipe(std::string& secret) { sodium_memzero(secret.data(), secret.size()); }

int thread_count(int wanted) {
  if (wanted > 0) return wanted;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

password_pool::password_pool(const password_hasher& hasher, password_pool_options options,
                             resilience::telemetry* telemetry)
    : hasher_(hasher),
      queue_limit_(options.queue_limit),
      thread_count_(thread_count(options.threads)),
      bulkhead_(resilience::bulkhead_config{static_cast<std::uint32_t>(thread_count_),
                                            static_cast<std::uint32_t>(options.queue_limit), std::chrono::milliseconds(0)},
                telemetry) {
  threads_.reserve(static_cast<std::size_t>(thread_count_));
  for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this](std::stop_token stop) { run(stop); });
}

password_pool::~password_pool() { stop(); }

void password_pool::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

// The bulkhead admits (a free thread or a queue place); the job then waits here for a thread.
admission password_pool::submit(job work) {
  auto admitted = bulkhead_.try_enqueue();
  auto* slot = std::get_if<resilience::bulkhead::slot>(&admitted);
  if (slot == nullptr) return admission::refused;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return admission::refused;
    jobs_.push_back(admitted_job{std::move(work), std::move(*slot)});
  }
  wake_.notify_one();
  return admission::accepted;
}

// Runs jobs until stop() and an empty queue. The stop token is not used to leave early: stop()
// promises the queued work is finished, and every queued job has a caller waiting for its answer.
void password_pool::run(std::stop_token) {
  while (true) {
    std::optional<admitted_job> next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      next.emplace(std::move(jobs_.front()));
      jobs_.pop_front();
    }
    next->slot.start();
    const auto started = std::chrono::steady_clock::now();
    next->work();
    const auto took = std::chrono::steady_clock::now() - started;
    {
      const std::lock_guard lock(mutex_);
      average_job_ = (average_job_ * 7 + std::chrono::duration_cast<std::chrono::nanoseconds>(took)) / 8;
    }
    next.reset();  // the slot goes back once the job's captures are gone
  }
}

admission password_pool::hash(std::string password, std::function<void(hash_outcome)> done) {
  return submit([this, password = std::move(password), done = std::move(done)]() mutable {
    hash_outcome outcome;
    try {
      outcome.hash = hasher_.hash(password);
    } catch (...) {
      outcome.failure = std::current_exception();
    }
    wipe(password);
    done(std::move(outcome));
  });
}

admission password_pool::verify(std::string stored_hash, std::string password, std::function<void(verify_outcome)> done) {
  return submit([this, stored = std::move(stored_hash), password = std::move(password), done = std::move(done)]() mutable {
    verify_outcome outcome;
    try {
      outcome.result = stored.empty() ? hasher_.verify_unknown(password) : hasher_.verify(stored, password);
    } catch (...) {
      outcome.failure = std::current_exception();
    }
    wipe(password);
    done(std::move(outcome));
  });
}

std::size_t password_pool::busy() const { return static_cast<std::size_t>(thread_count_) - bulkhead_.available(); }

std::size_t password_pool::queued() const { return bulkhead_.queued(); }

std::chrono::seconds password_pool::retry_after_hint() const {
  const std::lock_guard lock(mutex_);
  const auto drain = average_job_ * static_cast<long>(queue_limit_ + static_cast<std::size_t>(thread_count_)) /
                     static_cast<long>(thread_count_);
  return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(drain));
}

}  // namespace cqrs::core::security
