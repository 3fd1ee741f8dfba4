#include "commands/relay/log_reader.hpp"

#include <algorithm>

#include "core/event_store.hpp"
#include "core/log_tail.hpp"

namespace cqrs::commands::relay {

log_reader::log_reader(settings options, core::log_position after)
    : settings_(std::move(options)), position_(after), thread_([this](std::stop_token stop) { run(stop); }) {}

log_reader::~log_reader() {
  thread_.request_stop();
  changed_.notify_all();
}

std::optional<std::vector<core::recorded_event>> log_reader::next(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, limit, [&] { return !ready_.empty() || failure_ != nullptr; });
  if (failure_) std::rethrow_exception(failure_);
  if (ready_.empty()) return std::nullopt;
  auto batch = std::move(ready_.front());
  ready_.pop_front();
  lock.unlock();
  changed_.notify_all();  // room for the reader
  return batch;
}

void log_reader::restart(core::log_position position) {
  {
    const std::lock_guard lock(mutex_);
    ready_.clear();
    position_ = position;
    ++generation_;
  }
  changed_.notify_all();
}

// The thread's edge: a failure is handed to the relay's thread through next().
void log_reader::run(const std::stop_token& stop) {
  try {
    read_ahead(stop);
  } catch (...) {
    {
      const std::lock_guard lock(mutex_);
      failure_ = std::current_exception();
    }
    changed_.notify_all();
  }
}

namespace {

// How long a caught-up reader waits for a notification before reading again anyway: a
// notification may come early (an older transaction still held the watermark back), and the
// events behind it must not wait out the whole polling fallback.
constexpr std::chrono::milliseconds catch_up_pause{5};

}  // namespace

void log_reader::read_ahead(const std::stop_token& stop) {
  core::store_options store_settings;
  store_settings.url = settings_.pg_url;
  core::event_store store(store_settings);  // no upcasters: the relay publishes events as stored
  core::log_tail tail(settings_.pg_url);
  while (const auto request = wait_for_room(stop)) {
    auto batch = store.read_all(request->after, settings_.batch).value();
    if (batch.events.empty()) {
      tail.wait(settings_.poll);
      continue;
    }
    // A short batch reached the watermark: reading again at once finds nothing new (each such
    // empty read cost a query per batch under steady load). The next commit's notification, at
    // most `catch_up` away while writers keep committing, wakes the next read instead.
    const bool caught_up = batch.events.size() < settings_.batch;
    deliver(std::move(batch), request->generation);
    if (caught_up) tail.wait(std::min(settings_.poll, catch_up_pause));
  }
}

// Where to read next, once there is room for another batch; nothing once stopped.
std::optional<log_reader::read_request> log_reader::wait_for_room(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, stop, [&] { return ready_.size() < settings_.depth; });
  if (stop.stop_requested()) return std::nullopt;
  return read_request{position_, generation_};
}

void log_reader::deliver(core::log_batch batch, std::uint64_t generation) {
  {
    const std::lock_guard lock(mutex_);
    if (generation != generation_) return;  // restarted meanwhile: read from the new position
    position_ = batch.next;
    ready_.push_back(std::move(batch.events));
  }
  changed_.notify_all();
}

}  // namespace cqrs::commands::relay
