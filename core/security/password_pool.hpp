#pragma once

// The bulkhead for password work: a thread pool of its own (sized to the cores by default) with a
// bounded queue, so that argon2id never runs on an I/O thread nor in the PostgreSQL pool, and a
// burst of logins cannot starve anything else. Admission is core::resilience's bulkhead (its
// threads are the bulkhead's slots, its queue the bulkhead's queue: bulkhead::try_enqueue), whose
// series show under the instance name given (the gateway's: `password_hashing`). Submitting never
// blocks: when every thread is busy and the queue is full the work is refused at once
// (admission::refused), and the gateway answers 503 with Retry-After (retry_after_hint()).
//
// Completion handlers run on a pool thread. A Boost.Asio caller posts back to its own executor:
//
//   pool.verify(stored, password, [ex = strand](verify_outcome r) {
//     boost::asio::post(ex, [r] { /* answer the request */ });
//   });
//
// Handlers must not throw (an exception escaping one ends the process: std::terminate).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/resilience/bulkhead.hpp"
#include "core/security/password.hpp"

namespace cqrs::core::security {

enum class admission { accepted, refused };

struct hash_outcome {
  std::string hash;          // set unless `failure`
  std::exception_ptr failure;  // crypto_error (memory exhausted, invalid UTF-8): a 500, not the user's fault
};

struct verify_outcome {
  verify_result result;
  std::exception_ptr failure;
};

struct password_pool_options {
  int threads = 0;                 // 0: one per core (std::thread::hardware_concurrency)
  std::size_t queue_limit = 64;    // waiting jobs beyond the running ones
};

class password_pool {
 public:
  // `telemetry` (may be null; outlives the pool): the bulkhead's series.
  password_pool(const password_hasher& hasher, password_pool_options options = {},
                resilience::telemetry* telemetry = nullptr);
  ~password_pool();  // stop(), then join
  password_pool(const password_pool&) = delete;
  password_pool& operator=(const password_pool&) = delete;

  // Hashes a new password (registration, change, or after verify's needs_rehash).
  admission hash(std::string password, std::function<void(hash_outcome)> done);

  // Verifies a login. `stored_hash` empty: the account is unknown, and the dummy hash is verified
  // instead so that the answer takes as long as for a known account.
  admission verify(std::string stored_hash, std::string password, std::function<void(verify_outcome)> done);

  // Finishes the queued work, then ends the threads. Later submissions are refused.
  void stop();

  int threads() const { return thread_count_; }
  std::size_t busy() const;
  std::size_t queued() const;

  // Seconds a refused caller should wait: the time to drain a full queue at the measured pace,
  // at least 1.
  std::chrono::seconds retry_after_hint() const;

 private:
  using job = std::function<void()>;
  struct admitted_job {
    job work;
    resilience::bulkhead::slot slot;  // queued until a thread starts the job; freed after it
  };
  admission submit(job work);
  void run(std::stop_token stop);

  const password_hasher& hasher_;
  std::size_t queue_limit_;
  int thread_count_;
  resilience::bulkhead bulkhead_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<admitted_job> jobs_;
  bool stopping_ = false;
  std::chrono::nanoseconds average_job_{std::chrono::milliseconds(25)};  // under mutex_; moving average
  std::vector<std::jthread> threads_;
};

}  // namespace cqrs::core::security
