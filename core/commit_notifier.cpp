#include "core/commit_notifier.hpp"

#include <pqxx/connection_base>
#include <pqxx/nontransaction>

#include "core/log.hpp"
#include "core/pg_connection.hpp"

namespace cqrs::core {

commit_notifier::commit_notifier(std::string url, std::chrono::microseconds coalesce)
    : url_(std::move(url)), coalesce_(coalesce), thread_([this] { run(); }) {}

commit_notifier::~commit_notifier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void commit_notifier::committed() noexcept {
  // Only the first commit of a burst needs to wake the thread; the rest ride along.
  if (pending_.exchange(true)) return;
  std::lock_guard lock(mutex_);
  wake_.notify_one();
}

bool commit_notifier::wait_for_work() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return stopping_ || pending_.load(); });
  return !stopping_;
}

void commit_notifier::run() {
  pg_connection connection(url_);
  while (wait_for_work()) {
    // The first commit after a quiet spell is announced at once (waiting for the burst to gather
    // first added the whole interval to every tailing reader's latency, ~1 ms of the relay's
    // ~1.8 ms from commit to read); commits arriving during the NOTIFY or the pause after it set
    // pending_ again and share the next one, so there is still at most one per interval.
    pending_.store(false);
    send(connection);
    std::this_thread::sleep_for(coalesce_);
  }
}

void commit_notifier::send(pg_connection& connection) noexcept {
  try {
    pqxx::nontransaction tx(connection.get());
    tx.exec("NOTIFY " + std::string(commit_channel));
    sent_.fetch_add(1);
    failing_ = false;
  } catch (const std::exception& e) {
    // Readers fall back to polling; the next burst tries a fresh connection.
    connection.reset();
    if (!failing_) logger("commit_notifier").warn("notification not sent", {{"error", e.what()}});
    failing_ = true;
  }
}

}  // namespace cqrs::core
