#pragma once

// A Redis projection's target. The model's keys are `<model>:<relative key>`; the stream's
// applied versions are the hash `<model>:applied`; the live model's name is the string at
// `cqrs:projection:<name>:live`. One Lua script call per run of events (up to events_per_call)
// reads the pointer (unless a model is given), and for each event checks and advances the applied
// version and makes the change, so every effect is atomic with its bookkeeping. Keys outside
// KEYS[] are fine on a single Redis (not on a cluster).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "projections/redis_client.hpp"
#include "projections/target.hpp"

namespace cqrs::projections {

std::string redis_live_pointer_key(std::string_view projection);

class redis_target final : public projection_target {
 public:
  redis_target(redis_client& client, core::event_store& store, const redis_projection& projection);

  const projection_info& info() const override { return projection_.info(); }
  apply_counts apply(std::span<const core::recorded_event> events, const std::optional<std::string>& model) override;
  void force_apply(const core::recorded_event& event) override;
  void skip(const core::recorded_event& event) override;
  std::string live_model() override;
  void switch_live(const std::string& model) override;
  void drop_model(const std::string& model) override;
  core::stream_version applied_version(const core::stream_id& stream) override;
  std::unique_ptr<model_builder> start_build(const std::string& model) override;
  bool take_live_pointer_made() override;

 private:
  enum class status { duplicate = 0, applied = 1, gap = 2 };
  struct outcome {
    status result;
    core::stream_version last;
  };

  enum class mode { normal, force, skip };
  // A longer run is split over several calls (pipelined): one call blocks Redis while it runs.
  static constexpr std::size_t events_per_call = 128;
  // The script's leading arguments, then each event's (see apply_script).
  std::vector<std::string> call_args(const std::optional<std::string>& model) const;
  void add_event_args(std::vector<std::string>& args, const core::recorded_event& event,
                      const std::optional<std::string>& model, mode how) const;
  std::vector<redis_op> changes_unless_applied(const core::recorded_event& event,
                                               const std::optional<std::string>& model) const;
  std::string current_live() const;
  outcome run_one(const core::recorded_event& event, const std::optional<std::string>& model, mode how = mode::normal);
  // One EVALSHA per events_per_call events, all in one round trip; every reply read before any
  // is judged.
  std::vector<redis_reply> run_pipelined(std::span<const core::recorded_event> events,
                                         const std::optional<std::string>& model);
  // The outcome of each of the `events` events one call applied.
  std::vector<outcome> parse(const redis_reply& reply, std::size_t events);
  apply_counts fill_and_apply(const core::recorded_event& event, const std::optional<std::string>& model);

  redis_client& client_;
  core::event_store& store_;
  const redis_projection& projection_;
  redis_script script_;
  std::string pointer_key_;
  bool pointer_made_ = false;
};

}  // namespace cqrs::projections
