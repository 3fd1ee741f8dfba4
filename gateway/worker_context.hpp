#pragma once

// What one pool thread owns: its own connections (a libpqxx connection, an event store, a Redis
// connection belong to one thread at a time), opened lazily so that the gateway starts, and
// answers /healthz, while a dependency is down. After an infrastructure failure, work calls
// drop_connections() and the next use reconnects.

#include <memory>
#include <string>

#include "commands/product/product_pipeline.hpp"
#include "core/event_store.hpp"
#include "core/pg_connection.hpp"
#include "core/upcasting.hpp"
#include "projections/redis_client.hpp"

namespace cqrs::core {
class commit_notifier;
}

namespace cqrs::gateway {

struct worker_settings {
  std::string pg_url;
  std::string redis_url;
  commands::pipeline_options pipeline;
  const core::upcaster_registry* upcasters = nullptr;  // shared, read-only; outlives the workers
  core::commit_notifier* notifier = nullptr;           // shared; may be null
  // Shared by every worker's pipeline (thread-safe): products this process loaded or changed
  // (CQRS_COMMAND_CACHE_SIZE; null: none).
  std::shared_ptr<commands::product::product_pipeline::cache_type> product_cache = nullptr;
};

// The event store's options for these settings: the pool threads' stores and the gateway's
// append committer are opened alike.
core::store_options store_options_for(const worker_settings& settings);

class worker_context {
 public:
  explicit worker_context(const worker_settings& settings);
  ~worker_context();
  worker_context(const worker_context&) = delete;
  worker_context& operator=(const worker_context&) = delete;

  core::event_store& store();
  commands::product::product_pipeline& products();
  // For read models and read-your-writes checks (not the store's own connection).
  core::pg_connection& reads() { return reads_; }
  // Connects on first use. Throws projections::redis_error when Redis cannot be reached.
  projections::redis_client& redis();

  void drop_connections() noexcept;

 private:
  const worker_settings& settings_;
  std::unique_ptr<core::event_store> store_;
  std::unique_ptr<commands::product::product_pipeline> products_;
  core::pg_connection reads_;
  std::unique_ptr<projections::redis_client> redis_;
};

}  // namespace cqrs::gateway
