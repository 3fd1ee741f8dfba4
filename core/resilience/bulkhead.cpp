#include "core/resilience/bulkhead.hpp"

#include <chrono>

namespace cqrs::core::resilience {

bulkhead::slot& bulkhead::slot::operator=(slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    queued_ = other.queued_;
    other.owner_ = nullptr;
  }
  return *this;
}

void bulkhead::slot::start() noexcept {
  if (owner_ == nullptr || !queued_) return;
  owner_->start_queued();
  queued_ = false;
}

void bulkhead::slot::release() noexcept {
  if (owner_ != nullptr) owner_->release(queued_);
  owner_ = nullptr;
}

bulkhead::bulkhead(bulkhead_config config, telemetry* telemetry) : config_(config), telemetry_(telemetry) {
  std::lock_guard lock(mutex_);
  publish_locked();
}

bulkhead::admission bulkhead::try_acquire() {
  std::lock_guard lock(mutex_);
  if (running_ >= config_.max_concurrent) return refuse_locked(refusal_reason::bulkhead_full);
  ++running_;
  publish_locked();
  return slot(this);
}

bulkhead::admission bulkhead::try_enqueue() {
  std::lock_guard lock(mutex_);
  if (running_ + queued_ >= config_.max_concurrent + config_.max_queue) return refuse_locked(refusal_reason::bulkhead_full);
  ++queued_;
  publish_locked();
  return slot(this, true);
}

void bulkhead::start_queued() noexcept {
  std::lock_guard lock(mutex_);
  --queued_;
  ++running_;
  publish_locked();
}

bulkhead::admission bulkhead::acquire() {
  std::unique_lock lock(mutex_);
  if (running_ < config_.max_concurrent && queued_ == 0) {
    ++running_;
    publish_locked();
    return slot(this);
  }
  if (queued_ >= config_.max_queue || config_.max_wait.count() == 0) return refuse_locked(refusal_reason::bulkhead_full);
  ++queued_;
  publish_locked();
  const bool got = freed_.wait_for(lock, config_.max_wait, [&] { return running_ < config_.max_concurrent; });
  --queued_;
  if (!got) return refuse_locked(refusal_reason::bulkhead_timeout);
  ++running_;
  publish_locked();
  return slot(this);
}

void bulkhead::release(bool queued) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (queued) {
      --queued_;  // admitted but never started (its pool stopped first)
    } else {
      --running_;
    }
    publish_locked();
  }
  freed_.notify_one();
}

std::uint32_t bulkhead::available() const {
  std::lock_guard lock(mutex_);
  return config_.max_concurrent - running_;
}

std::uint32_t bulkhead::queued() const {
  std::lock_guard lock(mutex_);
  return queued_;
}

void bulkhead::publish_locked() noexcept {
  if (telemetry_ != nullptr) telemetry_->bulkhead(config_.max_concurrent - running_, queued_);
}

refusal bulkhead::refuse_locked(refusal_reason reason) noexcept {
  publish_locked();
  if (telemetry_ != nullptr) telemetry_->bulkhead_rejected();
  // A slot frees within a call's duration; the queue's wait is the nearest useful hint.
  const auto hint = config_.max_wait.count() > 0 ? config_.max_wait : std::chrono::milliseconds{1000};
  return {reason, hint};
}

}  // namespace cqrs::core::resilience
