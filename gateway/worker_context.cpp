#include "gateway/worker_context.hpp"

#include "gateway/read_replica.hpp"

namespace cqrs::gateway {

core::store_options store_options_for(const worker_settings& settings) {
  core::store_options options;
  options.url = settings.pg_url;
  options.upcasters = settings.upcasters;
  options.notifier = settings.notifier;
  return options;
}

worker_context::worker_context(const worker_settings& settings) : settings_(settings), reads_(settings.pg_url) {
  if (!settings.pg_read_url.empty() && settings.routing != nullptr) {
    replica_reads_ = std::make_unique<core::pg_connection>(settings.pg_read_url);
  }
}

void worker_context::run_on_models(model_access access, const core::pg_connection::work& w) {
  auto* routing = settings_.routing;
  const bool on_replica = replica_reads_ && routing != nullptr &&
                          (access == model_access::read ? routing->reads_on_replica() : routing->checks_on_replica());
  if (on_replica) {
    try {
      replica_reads_->run(core::statement_effect::none_on_failure, w);
      return;
    } catch (const core::store_error& e) {
      if (e.kind() == core::failure_kind::statement || e.kind() == core::failure_kind::unexpected) throw;
      replica_reads_->reset();
      routing->replica_failed();
    }
  }
  reads_.run(core::statement_effect::none_on_failure, w);
}

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
  if (replica_reads_) replica_reads_->reset();
  // The store reconnects by itself (it owns a pg_connection); the pipeline holds no connection.
}

}  // namespace cqrs::gateway
