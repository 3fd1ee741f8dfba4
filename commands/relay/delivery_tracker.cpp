#include "commands/relay/delivery_tracker.hpp"

#include <stdexcept>

namespace cqrs::commands::relay {

ticket delivery_tracker::enqueue(core::log_position position, core::timestamp recorded_at) {
  const std::lock_guard lock(mutex_);
  if (!entries_.empty() && !(entries_.back().position < position)) {
    throw std::logic_error("delivery_tracker: positions must be enqueued in increasing log order");
  }
  entries_.push_back(entry{position, recorded_at, {}, {}, false});
  return first_ + entries_.size() - 1;
}

void delivery_tracker::cancel_last() noexcept {
  const std::lock_guard lock(mutex_);
  if (!entries_.empty()) entries_.pop_back();
}

delivery_tracker::entry* delivery_tracker::find(ticket id) {
  if (id < first_ || id - first_ >= entries_.size()) return nullptr;
  return &entries_[id - first_];
}

void delivery_tracker::delivered(ticket id, kafka_place place) noexcept {
  const auto now = std::chrono::system_clock::now();
  {
    const std::lock_guard lock(mutex_);
    if (entry* e = find(id)) {
      e->delivered = true;
      e->acked_at = now;
      e->place = place;
    }
    ++reports_;
  }
  progress_.notify_all();
}

void delivery_tracker::failed(ticket, const char* reason) noexcept {
  // The entry stays unconfirmed for good: the checkpoint can never pass it.
  fail(reason);
}

void delivery_tracker::fail(const char* reason) noexcept {
  {
    const std::lock_guard lock(mutex_);
    record_failure(reason);
    ++reports_;
  }
  progress_.notify_all();
}

void delivery_tracker::record_failure(const char* reason) {
  if (failure_) return;
  try {
    failure_ = reason;
  } catch (...) {
    failure_.emplace();  // out of memory: an empty reason still stops the relay
  }
}

std::vector<confirmed_event> delivery_tracker::take_confirmed() {
  std::vector<confirmed_event> out;
  const std::lock_guard lock(mutex_);
  while (!entries_.empty() && entries_.front().delivered) {
    const entry& e = entries_.front();
    out.push_back(confirmed_event{e.position, e.recorded_at, e.acked_at, e.place});
    entries_.pop_front();
    ++first_;
  }
  return out;
}

std::optional<std::string> delivery_tracker::failure() const {
  const std::lock_guard lock(mutex_);
  return failure_;
}

std::size_t delivery_tracker::in_flight() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

std::optional<core::timestamp> delivery_tracker::oldest_in_flight() const {
  const std::lock_guard lock(mutex_);
  if (entries_.empty()) return std::nullopt;
  return entries_.front().recorded_at;
}

void delivery_tracker::wait_for_progress(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  const auto seen = reports_;
  progress_.wait_for(lock, limit, [&] { return reports_ != seen; });
}

}  // namespace cqrs::commands::relay
