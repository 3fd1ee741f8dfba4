#include "core/group_commit.hpp"

#include <algorithm>
#include <condition_variable>
#include <stdexcept>

#include "core/event_store.hpp"

namespace cqrs::core {

struct group_commit::waiter {
  explicit waiter(const append_request& r) : request(&r) {}

  const append_request* request;
  // Woken under group_commit::mutex_, not with a semaphore: libstdc++'s semaphore spins with
  // sched_yield before it sleeps, and with eight appending threads on two cores those yields
  // were a quarter of a pool thread's CPU (perf under wrk) while the leader's statement ran.
  std::condition_variable wake;
  bool woken = false;
  bool lead = false;                                // woken to lead, not with an answer
  std::optional<result<append_success>> answer;     // empty: append alone
  std::exception_ptr failure;
};

group_commit::group_commit(std::size_t max_group) : max_group_(max_group) {
  if (max_group_ == 0) throw std::invalid_argument("group_commit: max_group must be at least 1");
}

result<append_success> group_commit::append(event_store& store, const append_request& request) {
  if (max_group_ <= 1 || !event_store::groupable(request)) return store.append(request);
  waiter me(request);
  {
    const std::lock_guard lock(mutex_);
    if (leading_) {
      queue_.push_back(&me);
    } else {
      leading_ = true;
      me.lead = true;
    }
  }
  if (!me.lead) {
    std::unique_lock lock(mutex_);
    me.wake.wait(lock, [&me] { return me.woken; });  // an answer, or the lead
  }
  if (me.lead) lead(store, me);
  if (me.failure) std::rethrow_exception(me.failure);
  if (me.answer) return std::move(*me.answer);
  return store.append(request);  // left out of the group: alone, for its exact answer
}

void group_commit::lead(event_store& store, waiter& me) {
  auto group = take_group(me);
  if (group.size() == 1) {
    // Nobody waiting: the plain statement, while later arrivals queue behind this one.
    try {
      me.answer = store.append(*me.request);
    } catch (...) {
      me.failure = std::current_exception();
    }
  } else {
    std::vector<const append_request*> requests;
    for (const auto* w : group) requests.push_back(w->request);
    groups_.fetch_add(1, std::memory_order_relaxed);
    grouped_requests_.fetch_add(group.size(), std::memory_order_relaxed);
    try {
      auto written = store.append_group(requests);
      for (std::size_t i = 0; i < group.size(); ++i) {
        if (written[i]) group[i]->answer = std::move(*written[i]);
      }
    } catch (const store_error& e) {
      // In doubt: the group may have committed, for all of them. Otherwise nothing was written
      // and each appends alone (and meets the failure itself if it lasts).
      if (e.kind() == failure_kind::in_doubt) {
        for (auto* w : group) w->failure = std::current_exception();
      }
    } catch (...) {
      for (auto* w : group) w->failure = std::current_exception();
    }
  }
  hand_over();
  // Notified under the lock: a follower cannot see `woken`, return and destroy its waiter (and
  // its condition variable) before the notification is done. Touch none of them afterwards.
  const std::lock_guard lock(mutex_);
  for (auto* w : group) {
    if (w != &me) wake(*w);
  }
}

void group_commit::wake(waiter& w) {
  w.woken = true;
  w.wake.notify_one();
}

std::vector<group_commit::waiter*> group_commit::take_group(waiter& me) {
  std::vector<waiter*> group{&me};
  const std::lock_guard lock(mutex_);
  const auto n = std::min(queue_.size(), max_group_ - 1);
  group.insert(group.end(), queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  return group;
}

void group_commit::hand_over() {
  waiter* next = nullptr;
  {
    const std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      leading_ = false;
      return;
    }
    next = queue_.front();
    queue_.erase(queue_.begin());
    next->lead = true;
    wake(*next);
  }
}

}  // namespace cqrs::core
