#pragma once

// Commit notifications for tailing readers, sent outside the appends' transactions.
//
// Why not NOTIFY inside the append: PostgreSQL serialises the commits of all transactions that
// notified (a database-wide lock held through the commit's WAL flush), which would turn group
// commit off for every writer. Instead a writer calls committed() after its commit returns; one
// background thread sends a single `NOTIFY cqrs_events` on its own connection per burst: the first
// commit after a quiet spell at once, then at most one per `coalesce` interval, whatever the
// number of appends in it.
//
// A notification is only a wake-up: it carries nothing, may come early (the event is committed
// but an older open transaction still holds the readers' watermark back) or be lost (connection
// trouble). Readers stay correct by reading again after a timeout (log_tail::wait).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace cqrs::core {

inline constexpr std::string_view commit_channel = "cqrs_events";

class pg_connection;

class commit_notifier {
 public:
  explicit commit_notifier(std::string url, std::chrono::microseconds coalesce = std::chrono::milliseconds{1});
  ~commit_notifier();
  commit_notifier(const commit_notifier&) = delete;
  commit_notifier& operator=(const commit_notifier&) = delete;

  // Called by any writer thread after a commit: never blocks on the database, never throws.
  void committed() noexcept;

  // Notifications sent so far (for tests and metrics).
  std::uint64_t sent() const noexcept { return sent_.load(); }

 private:
  void run();
  bool wait_for_work();
  void send(pg_connection& connection) noexcept;

  std::string url_;
  std::chrono::microseconds coalesce_;
  std::atomic<bool> pending_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool failing_ = false;  // only the first of a run of failures is logged
  std::thread thread_;    // last: starts once everything above exists
};

}  // namespace cqrs::core
