#pragma once

// One test's isolated world for the User read models (redis and e2e suites): every registered
// projection under the scope `<prefix>_<run id>`, User events appended to the scope's `user`
// category, and readers of both user models.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event_store.hpp"
#include "core/upcasting.hpp"
#include "projections/catalog.hpp"
#include "projections/redis_client.hpp"
#include "projections/target.hpp"
#include "projections/user/user_projections.hpp"
#include "schemas/contracts/user/user_events.hpp"

namespace cqrs::tests {

class user_world {
 public:
  explicit user_world(const std::string& prefix);

  projections::projection_target& detail() { return *targets_->find(detail_name_); }
  projections::projection_target& list() { return *targets_->find(list_name_); }
  const projections::target_set& targets() const { return *targets_; }
  core::event_store& store() { return *store_; }
  core::stream_id stream(const std::string& id) const;

  // Appends to the user's stream (any expected version); returns the events stored now.
  std::vector<core::recorded_event> append(const std::string& id, const std::vector<schemas::user_event>& events);
  // Appends and applies to both models.
  void project(const std::string& id, const std::vector<schemas::user_event>& events);

  std::optional<projections::user::user_fields> detail_of(const std::string& id);
  std::vector<projections::user::admin_list_row> page(projections::user::admin_list_query q);
  // Both models for the given ids (and the whole admin list), as one comparable text.
  std::string digest(const std::vector<std::string>& ids);

 private:
  projections::projection_scope scope_;
  std::string category_;
  std::string detail_name_;
  std::string list_name_;
  core::upcaster_registry upcasters_;
  std::unique_ptr<core::event_store> store_;
  std::unique_ptr<projections::redis_client> redis_;
  projections::projection_set projections_;
  std::unique_ptr<projections::target_set> targets_;
};

}  // namespace cqrs::tests
