#pragma once

// What one pool thread owns: its own connections (a libpqxx connection, an event store, a Redis
// connection belong to one thread at a time), opened lazily so that the gateway starts, and
// answers /healthz, while a dependency is down. After an infrastructure failure, work calls
// drop_connections() and the next use reconnects.
//
// It hands out one command pipeline per aggregate type, made on first use on this thread's event
// store, with that aggregate's shared command cache (command_caches.hpp) when it has one.

#include <map>
#include <memory>
#include <string>
#include <typeindex>

#include "commands/command_pipeline.hpp"
#include "core/event_store.hpp"
#include "core/pg_connection.hpp"
#include "core/upcasting.hpp"
#include "gateway/command_caches.hpp"
#include "projections/redis_client.hpp"

namespace cqrs::core {
class commit_notifier;
}

namespace cqrs::gateway {

class read_routing;

struct worker_settings {
  std::string pg_url;
  std::string redis_url;
  commands::pipeline_options pipeline;
  const core::upcaster_registry* upcasters = nullptr;  // shared, read-only; outlives the workers
  core::commit_notifier* notifier = nullptr;           // shared; may be null
  // Shared by every worker's pipelines (each cache is thread-safe): the aggregates this process
  // loaded or changed, per aggregate type (CQRS_COMMAND_CACHE_SIZE...; none: no caches).
  std::shared_ptr<const command_caches> caches = std::make_shared<const command_caches>();
  // A streaming replica for read-model reads (read_replica.hpp); empty: the primary only.
  std::string pg_read_url = {};
  read_routing* routing = nullptr;  // shared; set whenever pg_read_url is
};

// What a read-model statement is for: reading rows, or checking the model's applied records for a
// read-your-writes wait (read_replica.hpp explains why the two may go to different servers).
enum class model_access { read, check };

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
  // This thread's pipeline for aggregate A.
  template <commands::stored_aggregate A>
  commands::command_pipeline<A>& pipeline() {
    auto& slot = pipelines_[std::type_index(typeid(A))];
    if (!slot) {
      slot = std::make_shared<commands::command_pipeline<A>>(store(), settings_.pipeline,
                                                             settings_.caches->template find<A>());
    }
    return *static_cast<commands::command_pipeline<A>*>(slot.get());
  }
  // For read models and read-your-writes checks (not the store's own connection).
  core::pg_connection& reads() { return reads_; }
  // Runs `w` (read-only) on the read models' server: the replica while read_routing says so, else
  // the primary; a replica that cannot be reached is bypassed and `w` runs on the primary.
  void run_on_models(model_access access, const core::pg_connection::work& w);
  // Connects on first use. Throws projections::redis_error when Redis cannot be reached.
  projections::redis_client& redis();

  void drop_connections() noexcept;

 private:
  const worker_settings& settings_;
  std::unique_ptr<core::event_store> store_;
  // Typed by the key; each holds a reference to store_, so they are destroyed first.
  std::map<std::type_index, std::shared_ptr<void>> pipelines_;
  core::pg_connection reads_;
  std::unique_ptr<core::pg_connection> replica_reads_;  // when settings_.pg_read_url is set
  std::unique_ptr<projections::redis_client> redis_;
};

}  // namespace cqrs::gateway
