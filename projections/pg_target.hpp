#pragma once

// A PostgreSQL projection's target. Applied versions live in projection_stream_versions
// (model, stream), the live model's name in projection_live_models; a batch is one transaction
// that reads the live pointer FOR SHARE (so a switch waits for it), locks the version rows of all
// its streams (in stream order), decides in memory which events are new and which versions are
// missing, hands the projection the events that take effect in one call, and writes the advanced
// versions in one statement: change and bookkeeping commit together or not at all.
//
// Every statement is prepared on each new connection of the target (with the projection's own),
// so a batch costs a handful of round trips whatever its size.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/pg_connection.hpp"
#include "projections/target.hpp"

namespace cqrs::projections {

class pg_target final : public projection_target {
 public:
  pg_target(std::string url, core::event_store& store, const pg_projection& projection);

  const projection_info& info() const override { return projection_.info(); }
  apply_counts apply(std::span<const core::recorded_event> events, const std::optional<std::string>& model) override;
  void force_apply(const core::recorded_event& event) override;
  void skip(const core::recorded_event& event) override;
  std::string live_model() override;
  void switch_live(const std::string& model) override;
  void drop_model(const std::string& model) override;
  core::stream_version applied_version(const core::stream_id& stream) override;
  std::unique_ptr<model_builder> start_build(const std::string& model) override;

 private:
  void ensure_live_row();

  core::pg_connection connection_;
  core::event_store& store_;
  const pg_projection& projection_;
};

namespace detail {

// The statements below run with exec_prepared: the connection must have been prepared with this
// (pg_target's connections are, on every connect).
void prepare_target_statements(pqxx::connection_base& connection);

// The live model's name, locked FOR SHARE until the transaction ends.
std::string live_model_in(pqxx::transaction_base& tx, const std::string& projection);

using stream_versions = std::vector<std::pair<std::string, std::int64_t>>;  // stream id, version

// Creates the missing version rows (at 0) of `streams` and locks them all FOR UPDATE in stream
// order (one order for every caller, so two batches never deadlock); returns them in that order.
stream_versions lock_applied_versions(pqxx::transaction_base& tx, const std::string& model,
                                      std::vector<std::string> streams);
void set_applied_versions(pqxx::transaction_base& tx, const std::string& model, const stream_versions& versions);

}  // namespace detail

}  // namespace cqrs::projections
