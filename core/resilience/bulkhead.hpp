#pragma once

// A bulkhead: at most `max_concurrent` calls run at once; up to `max_queue` more wait, each at
// most `max_wait`, for a slot to free up; anything beyond is refused at once with a typed
// refusal (bulkhead_full), which the gateway answers with 503 + Retry-After. A queued call that
// waits out `max_wait` is refused as bulkhead_timeout.
//
// Waiting blocks the calling thread: acquire() is for worker threads. Code on an I/O thread uses
// try_acquire(), which never waits.
//
// A thread pool whose threads are the `max_concurrent` slots queues its work itself: it admits
// each job with try_enqueue() (a queued slot, or a refusal; never waits) and the thread that picks
// the job up calls slot::start(). The pool's jobs, running or waiting, are then exactly what the
// bulkhead counts (available, queued, rejections), and `max_wait` does not apply.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <variant>

#include "core/resilience/config.hpp"
#include "core/resilience/refusal.hpp"
#include "core/resilience/telemetry.hpp"

namespace cqrs::core::resilience {

class bulkhead {
 public:
  // Holds one call slot; gives it back when destroyed. Move-only.
  class slot {
   public:
    slot(slot&& other) noexcept : owner_(other.owner_), queued_(other.queued_) { other.owner_ = nullptr; }
    slot& operator=(slot&& other) noexcept;
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() { release(); }

    // A queued slot (try_enqueue) starts running; nothing for a running one.
    void start() noexcept;

   private:
    friend class bulkhead;
    explicit slot(bulkhead* owner, bool queued = false) : owner_(owner), queued_(queued) {}
    void release() noexcept;
    bulkhead* owner_;
    bool queued_;
  };
  using admission = std::variant<slot, refusal>;

  // `telemetry` may be null; it must outlive the bulkhead.
  explicit bulkhead(bulkhead_config config, telemetry* telemetry = nullptr);
  bulkhead(const bulkhead&) = delete;
  bulkhead& operator=(const bulkhead&) = delete;

  // A free slot now, a place in the queue for at most max_wait, or a refusal.
  admission acquire();
  // A free slot now, or a refusal; never waits.
  admission try_acquire();
  // A queued slot when the running and queued calls leave room (max_concurrent + max_queue in
  // all), or a refusal (bulkhead_full); never waits. See the header's comment.
  admission try_enqueue();

  std::uint32_t available() const;
  std::uint32_t queued() const;

 private:
  void release(bool queued) noexcept;
  void start_queued() noexcept;
  void publish_locked() noexcept;
  refusal refuse_locked(refusal_reason reason) noexcept;

  bulkhead_config config_;
  telemetry* telemetry_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::uint32_t running_ = 0;
  std::uint32_t queued_ = 0;
};

}  // namespace cqrs::core::resilience
