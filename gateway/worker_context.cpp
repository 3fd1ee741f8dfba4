#include "gateway/worker_context.hpp"

namespace cqrs::gateway {

worker_context::worker_context(const worker_settings& settings) : settings_(settings), reads_(settings.pg_url) {}

worker_context::~worker_context() = default;

core::event_store& worker_context::store() {
  if (!store_) {
    core::store_options options;
    options.url = settings_.pg_url;
    options.upcasters = settings_.upcasters;
    options.notifier = settings_.notifier;
    store_ = std::make_unique<core::event_store>(std::move(options));
  }
  return *store_;
}

commands::product::product_pipeline& worker_context::products() {
  if (!products_) products_ = std::make_unique<commands::product::product_pipeline>(store(), settings_.pipeline,
                                                                                 settings_.product_cache.get());
  return *products_;
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
