#pragma once

// A PostgreSQL projection's target. Applied versions live in projection_stream_versions
// (model, stream), the live model's name in projection_live_models; a batch is one transaction
// that reads the live pointer FOR SHARE (so a switch waits for it), and for each event locks the
// stream's version row, compares, runs the handler and advances the version: change and
// bookkeeping commit together or not at all.

#include <optional>
#include <string>

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
  apply_counts apply_one(pqxx::transaction_base& tx, const std::string& model, const core::recorded_event& event);
  void ensure_live_row();

  core::pg_connection connection_;
  core::event_store& store_;
  const pg_projection& projection_;
};

namespace detail {
// The live model's name, locked FOR SHARE until the transaction ends.
std::string live_model_in(pqxx::transaction_base& tx, const std::string& projection);
std::int64_t lock_applied_version(pqxx::transaction_base& tx, const std::string& model, const std::string& stream);
void set_applied_version(pqxx::transaction_base& tx, const std::string& model, const std::string& stream,
                         std::int64_t version);
}  // namespace detail

}  // namespace cqrs::projections
