#include <doctest/doctest.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/resilience/telemetry.hpp"
#include "core/security/password_pool.hpp"
#include "core/security/password_pool_asio.hpp"

using namespace cqrs::core::security;

namespace {

constexpr argon2_params weak{1, 8192};

double thread_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// A gate the test opens: handlers that wait on it keep the pool's threads busy.
class gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    open_cv_.wait(lock, [this] { return open_; });
  }
  void open() {
    {
      const std::lock_guard lock(mutex_);
      open_ = true;
    }
    open_cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable open_cv_;
  bool open_ = false;
};

}  // namespace

TEST_CASE("the pool hashes and verifies off the caller's thread and answers through the handler") {
  const password_hasher hasher(weak);
  password_pool pool(hasher, {2, 8});
  std::promise<hash_outcome> hashed;
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> ran_elsewhere{false};
  REQUIRE(pool.hash("correct horse battery staple", [&](hash_outcome outcome) {
    ran_elsewhere = std::this_thread::get_id() != caller;
    hashed.set_value(std::move(outcome));
  }) == admission::accepted);
  const auto outcome = hashed.get_future().get();
  REQUIRE_FALSE(outcome.failure);
  CHECK(ran_elsewhere);

  std::promise<verify_outcome> right;
  std::promise<verify_outcome> wrong;
  std::promise<verify_outcome> unknown;
  REQUIRE(pool.verify(outcome.hash, "correct horse battery staple", [&](verify_outcome v) { right.set_value(v); }) ==
          admission::accepted);
  REQUIRE(pool.verify(outcome.hash, "wrong", [&](verify_outcome v) { wrong.set_value(v); }) == admission::accepted);
  REQUIRE(pool.verify("", "correct horse battery staple", [&](verify_outcome v) { unknown.set_value(v); }) ==
          admission::accepted);
  CHECK(right.get_future().get().result.match);
  CHECK_FALSE(wrong.get_future().get().result.match);
  CHECK_FALSE(unknown.get_future().get().result.match);
}

TEST_CASE("an Asio caller gets its answers on its own io_context thread, not the pool's") {
  const password_hasher hasher(weak);
  password_pool pool(hasher, {2, 8});
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread::id io_thread;
  std::thread runner([&] {
    io_thread = std::this_thread::get_id();
    io.run();
  });
  std::promise<std::pair<bool, bool>> answer;  // (ran on the io thread, matched)
  std::string hash;
  std::promise<void> hashed;
  REQUIRE(hash_then(pool, "correct horse battery staple", io.get_executor(), [&](hash_outcome o) {
    hash = o.hash;
    hashed.set_value();
  }) == admission::accepted);
  hashed.get_future().get();
  REQUIRE(verify_then(pool, hash, "correct horse battery staple", io.get_executor(), [&](verify_outcome o) {
    answer.set_value({std::this_thread::get_id() == io_thread, o.result.match});
  }) == admission::accepted);
  const auto [on_io_thread, matched] = answer.get_future().get();
  CHECK(on_io_thread);
  CHECK(matched);
  guard.reset();
  runner.join();
}

TEST_CASE("a failure inside the pool reaches the handler as an exception pointer") {
  const password_hasher hasher(weak);
  password_pool pool(hasher, {1, 1});
  std::promise<hash_outcome> hashed;
  REQUIRE(pool.hash("invalid \xff utf-8", [&](hash_outcome o) { hashed.set_value(std::move(o)); }) ==
          admission::accepted);
  const auto outcome = hashed.get_future().get();
  REQUIRE(outcome.failure);
  CHECK_THROWS_AS(std::rethrow_exception(outcome.failure), crypto_error);
}

TEST_CASE("a full pool refuses at once instead of queueing without bound") {
  const password_hasher hasher(weak);
  password_pool pool(hasher, {2, 3});
  gate held;
  std::atomic<int> answered{0};
  const auto hold = [&](verify_outcome) {
    held.wait();
    ++answered;
  };
  // Two running (held in their handlers) and three waiting: the capacity is threads + queue.
  for (int i = 0; i < 5; ++i) REQUIRE(pool.verify("", "x", hold) == admission::accepted);
  const auto started = std::chrono::steady_clock::now();
  CHECK(pool.verify("", "x", hold) == admission::refused);
  CHECK(pool.hash("correct horse battery staple", [](hash_outcome) {}) == admission::refused);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));  // never blocks
  CHECK(pool.retry_after_hint() >= std::chrono::seconds(1));
  held.open();
  pool.stop();  // finishes what was accepted
  CHECK(answered == 5);
  CHECK(pool.verify("", "x", hold) == admission::refused);  // stopped
}

TEST_CASE("the pool's bulkhead shows as a resilience instance: free threads, queued jobs, refusals") {
  const password_hasher hasher(weak);
  cqrs::core::metrics_registry registry;
  const cqrs::core::logger log("test", cqrs::core::log_level::error);
  cqrs::core::resilience::telemetry metrics("password_hashing", registry, log, 1);
  password_pool pool(hasher, {1, 1}, &metrics);
  gate held;
  std::atomic<int> started{0};
  const auto hold = [&](verify_outcome) {
    ++started;
    held.wait();
  };
  REQUIRE(pool.verify("", "x", hold) == admission::accepted);
  while (started == 0) std::this_thread::yield();
  REQUIRE(pool.verify("", "x", hold) == admission::accepted);  // waits in the queue
  CHECK(pool.verify("", "x", hold) == admission::refused);
  CHECK(pool.busy() == 1);
  CHECK(pool.queued() == 1);
  const auto text = registry.render();
  CHECK(text.find("cqrs_resilience_bulkhead_available{name=\"password_hashing\"} 0") != std::string::npos);
  CHECK(text.find("cqrs_resilience_bulkhead_queued{name=\"password_hashing\"} 1") != std::string::npos);
  CHECK(text.find("cqrs_resilience_bulkhead_rejected_total{name=\"password_hashing\"} 1") != std::string::npos);
  held.open();
  pool.stop();
  CHECK(registry.render().find("cqrs_resilience_bulkhead_available{name=\"password_hashing\"} 1") != std::string::npos);
}

TEST_CASE("stopping the pool finishes every accepted job") {
  const password_hasher hasher(weak);
  std::atomic<int> answered{0};
  {
    password_pool pool(hasher, {1, 20});
    for (int i = 0; i < 20; ++i) {
      REQUIRE(pool.hash("correct horse battery staple", [&](hash_outcome o) { answered += o.failure ? 0 : 1; }) ==
              admission::accepted);
    }
  }  // the destructor stops and joins
  CHECK(answered == 20);
}

TEST_CASE("argon2id throughput at OWASP's parameters, one thread and the whole pool") {
  const password_hasher hasher;  // m = 19 MiB, t = 2, p = 1
  constexpr int single = 8;
  auto start = std::chrono::steady_clock::now();
  const auto cpu_start = thread_cpu_seconds();
  std::string last;
  for (int i = 0; i < single; ++i) last = hasher.hash("correct horse battery staple");
  const double single_rate = single / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // CPU time per hash: the capacity of one core, whatever else the machine runs meanwhile.
  const double cpu_ms = (thread_cpu_seconds() - cpu_start) * 1000 / single;
  CHECK(hasher.verify(last, "correct horse battery staple").match);

  password_pool pool(hasher, {0, 64});
  const int jobs = 8 * pool.threads();
  std::latch done(jobs);
  std::atomic<int> good{0};
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < jobs; ++i) {
    REQUIRE(pool.hash("correct horse battery staple", [&](hash_outcome o) {
      good += o.failure ? 0 : 1;
      done.count_down();
    }) == admission::accepted);
  }
  done.wait();
  const double pool_rate = jobs / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(good == jobs);
  MESSAGE("argon2id m=19MiB t=2 p=1: " << cpu_ms << " ms of CPU per hash (" << 1000 / cpu_ms
                                       << " hashes/s per core); wall clock: " << single_rate
                                       << " hashes/s on one thread, " << pool_rate << " hashes/s on the pool of "
                                       << pool.threads() << " threads");
}
