#include "core/append_committer.hpp"

#include <algorithm>
#include <stdexcept>

namespace cqrs::core {

append_committer::append_committer(store_options options, std::size_t max_group, std::size_t queue_limit,
                                   metrics_registry* metrics)
    : store_(std::move(options)), max_group_(max_group), queue_limit_(queue_limit) {
  if (max_group_ == 0) throw std::invalid_argument("append_committer: max_group must be at least 1");
  if (queue_limit_ == 0) throw std::invalid_argument("append_committer: queue_limit must be at least 1");
  if (metrics != nullptr) {
    statements_metric_ = &metrics->make_counter("cqrs_append_committer_statements_total",
                                                "Statements (each one commit) the append committer wrote");
    appends_metric_ = &metrics->make_counter("cqrs_append_committer_appends_total",
                                             "Appends the append committer's statements carried");
    queued_metric_ = &metrics->make_gauge("cqrs_append_committer_queued",
                                          "Appends handed to the append committer and not yet taken");
  }
  thread_ = std::thread([this] { run(); });
}

append_committer::~append_committer() { stop(); }

bool append_committer::try_submit(append_request request, callback done) {
  if (!event_store::groupable(request)) return false;
  bool was_idle = false;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    was_idle = queue_.empty();
    queue_.push_back({std::move(request), std::move(done)});
    if (queued_metric_ != nullptr) queued_metric_->set(static_cast<double>(queue_.size()));
  }
  // A busy committer finds the queue when its statement returns: no wake-up (a futex call and a
  // context switch) per append, only when it may be asleep on an empty queue.
  if (was_idle) wake_.notify_one();
  return true;
}

void append_committer::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t append_committer::statements() const {
  const std::lock_guard lock(mutex_);
  return statements_;
}

std::uint64_t append_committer::appends() const {
  const std::lock_guard lock(mutex_);
  return appends_;
}

std::size_t append_committer::queued() const {
  const std::lock_guard lock(mutex_);
  return queue_.size();
}

void append_committer::run() {
  for (;;) {
    auto batch = take();
    if (batch.empty()) return;  // stopping, and everything handed over is answered
    write(batch);
  }
}

std::vector<append_committer::pending> append_committer::take() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
  const auto n = std::min(queue_.size(), max_group_);
  std::vector<pending> batch(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  if (!batch.empty()) ++statements_, appends_ += batch.size();
  if (statements_metric_ != nullptr && !batch.empty()) {
    statements_metric_->increment();
    appends_metric_->increment(static_cast<double>(batch.size()));
    queued_metric_->set(static_cast<double>(queue_.size()));
  }
  return batch;
}

void append_committer::write(std::vector<pending>& batch) {
  // Until the store says otherwise: not written.
  std::vector<committer_answer> answers(batch.size(), committer_answer{committer_answer::kind::not_written, {}, {}});
  try {
    if (batch.size() == 1) {
      // Alone: the plain statement, which also says why it refused.
      auto appended = store_.append(batch.front().request);
      if (appended) answers.front() = {committer_answer::kind::written, std::move(appended).value(), nullptr};
    } else {
      std::vector<const append_request*> requests;
      requests.reserve(batch.size());
      for (const auto& p : batch) requests.push_back(&p.request);
      auto written = store_.append_group(requests);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (written[i]) answers[i] = {committer_answer::kind::written, std::move(*written[i]), nullptr};
      }
    }
  } catch (...) {
    for (auto& answer : answers) answer = {committer_answer::kind::failed, std::nullopt, std::current_exception()};
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(answers[i]));
}

}  // namespace cqrs::core
