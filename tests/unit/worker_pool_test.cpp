// worker_pool: a bounded bulkhead. No PostgreSQL or Redis: worker contexts connect lazily, and
// these jobs never ask them to.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gateway/worker_pool.hpp"
#include "tests/support/polling.hpp"

namespace cqrs::gateway {
namespace {

using namespace std::chrono_literals;

worker_settings unused_settings() {
  worker_settings settings;
  settings.pg_url = "postgresql://127.0.0.1:1/unused";
  settings.redis_url = "redis://127.0.0.1:1/0";
  return settings;
}

using cqrs::tests::eventually;

// A job that holds its thread until released.
struct gate {
  std::promise<void> open;
  std::shared_future<void> opened = open.get_future().share();
  worker_pool::job job() {
    return [f = opened](worker_context&) { f.wait(); };
  }
};

TEST_CASE("worker_pool refuses work once every thread is busy and the queue is full") {
  const auto settings = unused_settings();
  worker_pool pool(pool_kind::postgres, 1, 1, settings);
  gate blocker;
  REQUIRE(pool.try_submit(blocker.job()));
  REQUIRE(eventually([&] { return pool.busy() == 1; }));
  CHECK(pool.try_submit([](worker_context&) {}));  // waits in the one queue place
  CHECK(pool.queued() == 1);
  CHECK_FALSE(pool.try_submit([](worker_context&) {}));
  blocker.open.set_value();
  CHECK(eventually([&] { return pool.busy() == 0 && pool.queued() == 0; }));
  CHECK(pool.try_submit([](worker_context&) {}));
}

TEST_CASE("worker_pool with no queue accepts exactly one job per idle thread") {
  const auto settings = unused_settings();
  worker_pool pool(pool_kind::redis, 2, 0, settings);
  gate blocker;
  CHECK(pool.try_submit(blocker.job()));
  CHECK(pool.try_submit(blocker.job()));
  CHECK_FALSE(pool.try_submit([](worker_context&) {}));
  blocker.open.set_value();
}

TEST_CASE("worker_pool runs jobs in submission order") {
  const auto settings = unused_settings();
  std::vector<int> seen;
  {
    worker_pool pool(pool_kind::postgres, 1, 100, settings);
    gate blocker;
    REQUIRE(pool.try_submit(blocker.job()));
    for (int i = 0; i < 50; ++i) REQUIRE(pool.try_submit([&seen, i](worker_context&) { seen.push_back(i); }));
    blocker.open.set_value();
    pool.stop();
  }
  REQUIRE(seen.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(seen[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("worker_pool stop() finishes the queued jobs and refuses new ones") {
  const auto settings = unused_settings();
  worker_pool pool(pool_kind::postgres, 1, 10, settings);
  std::atomic<int> done{0};
  gate blocker;
  REQUIRE(pool.try_submit(blocker.job()));
  for (int i = 0; i < 5; ++i) REQUIRE(pool.try_submit([&done](worker_context&) { ++done; }));
  std::thread stopper([&] { pool.stop(); });
  // Once stopping, submissions are refused even though the queue has room.
  CHECK(eventually([&] { return !pool.try_submit([](worker_context&) {}); }));
  blocker.open.set_value();
  stopper.join();
  CHECK(done == 5);
}

TEST_CASE("worker_pool threads survive a job that throws, each with its own context") {
  const auto settings = unused_settings();
  worker_pool pool(pool_kind::postgres, 2, 10, settings);
  REQUIRE(pool.try_submit([](worker_context&) { throw std::runtime_error("job's own business"); }));
  std::mutex mutex;
  std::set<worker_context*> contexts;
  std::set<std::thread::id> threads;
  gate blocker;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(pool.try_submit([&, f = blocker.opened](worker_context& context) {
      {
        std::lock_guard lock(mutex);
        contexts.insert(&context);
        threads.insert(std::this_thread::get_id());
      }
      f.wait();
    }));
  }
  REQUIRE(eventually([&] {
    std::lock_guard lock(mutex);
    return contexts.size() == 2;
  }));
  blocker.open.set_value();
  pool.stop();
  CHECK(threads.size() == 2);
}

}  // namespace
}  // namespace cqrs::gateway
