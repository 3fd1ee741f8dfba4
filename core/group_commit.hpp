#pragma once

// Group commit: appends that threads make at the same time go to PostgreSQL together, as one
// statement and one commit (event_store::append_group), instead of one round trip and one commit
// each. PostgreSQL then wakes once, plans once, inserts the rows and flushes the WAL once for the
// whole group.
//
// Leader and followers, no thread of its own: a thread that appends while no group is being
// written becomes the leader and writes, alone, on its own store; threads that append meanwhile
// queue and sleep. When the leader is done it wakes the first queued thread as the next leader,
// which takes everything queued (up to max_group), writes it as one group on its own store, and
// wakes the others with their answers. So a group forms exactly while the previous one is in flight: an idle system writes
// each append at once, a busy one writes fewer, larger groups.
//
// A request that is not event_store::groupable (several events, a snapshot, "any" expectations),
// or that the group did not write (its expectation failed, the same stream twice, an idempotency
// key already stored, which fails the whole group), is appended alone by its own thread, which
// then learns the exact answer (conflict, duplicate) from the ordinary append. A group whose reply
// was lost is in doubt for every member, each of which sees the same store_error as an append of
// its own would raise; a keyed member's outcome went in (or not) with its event, so its retry
// under the key stays safe.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <vector>

#include "core/errors.hpp"
#include "core/events.hpp"

namespace cqrs::core {

class event_store;

class group_commit {
 public:
  // max_group: requests per statement (at least 1; 1 turns grouping off).
  explicit group_commit(std::size_t max_group);
  group_commit(const group_commit&) = delete;
  group_commit& operator=(const group_commit&) = delete;

  // Same contract as store.append(request); `store` is the calling thread's own.
  result<append_success> append(event_store& store, const append_request& request);

  std::size_t max_group() const { return max_group_; }
  // Statements that wrote a group (two or more requests), and the requests they carried.
  std::uint64_t groups() const { return groups_.load(std::memory_order_relaxed); }
  std::uint64_t grouped_requests() const { return grouped_requests_.load(std::memory_order_relaxed); }

 private:
  struct waiter;
  void lead(event_store& store, waiter& me);
  std::vector<waiter*> take_group(waiter& me);
  void hand_over();
  static void wake(waiter& w);  // with mutex_ held

  const std::size_t max_group_;
  std::mutex mutex_;
  std::vector<waiter*> queue_;  // in arrival order
  bool leading_ = false;
  std::atomic<std::uint64_t> groups_{0};
  std::atomic<std::uint64_t> grouped_requests_{0};
};

}  // namespace cqrs::core
