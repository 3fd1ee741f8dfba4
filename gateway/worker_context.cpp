#include "gateway/worker_context.hpp"

namespace cqrs::gateway {

core::store_options store_options_for(const worker_settings& settings) {
  core::store_options options;
  options.url = settings.pg_url;
  options.upcasters = settings.upcasters;
  options.notifier = settings.notifier;
  return options;
}

worker_context::worker_context(const worker_settings& settings) : settings_(settings), reads_(settings.pg_url) {}

worker_context::~worker_context() {
  pipelines_.clear();  // they refer to store_
}

core::event_store& worker_context::store() {
  if (!store_) store_ = std::make_unique<core::event_store>(store_options_for(settings_));
  return *store_;
}

projections::redis_client& worker_context::redis() {
  if (!redis_) redis_ = std::make_unique<projections::redis_client>(settings_.redis_url);
  return *redis_;
}

void worker_context::drop_connections() noexcept {
  redis_.reset();
  reads_.reset();
  // The store reconnects by itself (it owns a pg_connection); the pipeline holds no connection.
}

}  // namespace cqrs::gateway
