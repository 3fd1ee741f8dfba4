#pragma once

// An asynchronous group commit: callers hand over groupable appends (event_store::groupable) with
// a callback and go on with other work; one thread of the committer's own takes everything handed
// over meanwhile (up to max_group), writes it as one statement and one commit on its own store
// (event_store::append_group), and calls each callback with its answer.
//
// Why, next to core/group_commit (whose callers wait on their own threads): a caller that would
// otherwise park a thread on every append (the gateway's I/O threads hand a cached command's
// append over, and answer when it is called back) costs no thread hand-offs, and the group is not
// capped by a pool's size. An idle committer writes an append at once; a busy one writes fewer,
// larger groups.
//
// Answers, and what the caller does with them:
// - written: committed, with its success.
// - not_written: the store refused it and wrote nothing of it (its expectation no longer holds,
//   the same stream came twice in a group, an invalid request); append it another way to learn
//   the exact answer.
// - refused: never handed over (try_submit said false); callers that hand over asynchronously
//   report it to their continuation with this kind.
// - failed: the statement threw (the store's own retries of what cannot have committed are
//   done); `failure` is what an append of its own would have thrown (a store_error says whether
//   it may have committed).
//
// Callbacks run on the committer's thread, one at a time: they must be cheap and must not throw
// (post the answer to where it is needed). stop() (and the destructor) answers everything handed
// over before it, then ends the thread.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <condition_variable>
#include <optional>
#include <thread>
#include <vector>

#include "core/event_store.hpp"
#include "core/events.hpp"
#include "core/metrics.hpp"

namespace cqrs::core {

struct committer_answer {
  enum class kind { written, not_written, refused, failed };
  kind what = kind::refused;
  std::optional<append_success> success;  // written
  std::exception_ptr failure;             // failed
};

class append_committer {
 public:
  using callback = std::function<void(committer_answer)>;

  // max_group: appends per statement (at least 1); queue_limit: appends handed over and not yet
  // taken, beyond which try_submit refuses (at least 1).
  // metrics (may be null): cqrs_append_committer_statements_total, cqrs_append_committer_appends_total
  // (their ratio is the mean group) and cqrs_append_committer_queued.
  append_committer(store_options options, std::size_t max_group, std::size_t queue_limit,
                   metrics_registry* metrics = nullptr);
  ~append_committer();
  append_committer(const append_committer&) = delete;
  append_committer& operator=(const append_committer&) = delete;

  // Hands `request` over; false (and `done` is not called) when it is not groupable, the queue
  // is full or the committer is stopping.
  bool try_submit(append_request request, callback done);
  void stop();

  // Statements written, and the appends they carried (a statement of one included).
  std::uint64_t statements() const;
  std::uint64_t appends() const;
  std::size_t queued() const;

 private:
  struct pending {
    append_request request;
    callback done;
  };

  void run();
  std::vector<pending> take();
  void write(std::vector<pending>& batch);

  event_store store_;  // used by the committer's thread only
  const std::size_t max_group_;
  const std::size_t queue_limit_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<pending> queue_;
  bool stopping_ = false;
  std::uint64_t statements_ = 0;
  std::uint64_t appends_ = 0;
  counter* statements_metric_ = nullptr;
  counter* appends_metric_ = nullptr;
  gauge* queued_metric_ = nullptr;
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace cqrs::core
