#pragma once

// The parts of the command pipeline that do not depend on the aggregate type, compiled once in
// command_pipeline.cpp: request checks, metadata, idempotency fingerprints and stored outcomes,
// jittered backoff, and appends that carry unique claims.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "commands/command_outcome.hpp"
#include "commands/stored_aggregate.hpp"
#include "commands/unique_claim.hpp"
#include "core/event_store.hpp"
#include "schemas/contracts/encoded_payload.hpp"

namespace cqrs::core {
class commit_notifier;
class group_commit;
}

namespace cqrs::commands {

// Who asks, on whose behalf, and under which guarantees. Empty ids are filled in: a generated
// command id, and the command id as correlation and causation id of a command that starts a flow.
struct command_context {
  std::string command_id;
  std::string correlation_id;
  std::string causation_id;
  std::string actor;                             // required: every event names who caused it
  std::optional<std::string> idempotency_key;    // same key + same command: the first outcome
  std::optional<core::stream_version> if_match;  // the caller's expected version (0: must not exist)
};

struct pipeline_options {
  // Decisions per command when concurrent writers interfere; each conflict means another command
  // on the stream succeeded, so a stream with k appends in flight needs at most k + 1.
  int max_attempts = 16;
  std::chrono::microseconds first_backoff{500};  // the jitter window, doubled per attempt ...
  std::chrono::microseconds max_backoff{50'000};  // ... up to this
  std::int64_t snapshot_every = 100;  // a snapshot when an append crosses a multiple of this; 0: never
  std::size_t read_batch = 1000;      // events per read of a stream's tail
  // Woken after commits the pipeline makes itself (appends with claims); may be null.
  core::commit_notifier* notifier = nullptr;
  // Shared by the process's pipelines: appends without claims are written in groups
  // (core/group_commit.hpp); may be null.
  core::group_commit* group = nullptr;
};

namespace detail {

// The command's context made complete, or why it cannot be.
std::variant<core::event_metadata, invalid_request> metadata_for(const command_context& context);

// Identifies a command for idempotency: SHA-256 over its target, type, version and fields.
std::string fingerprint(const core::stream_id& target, const schemas::encoded_payload& command);

// The accepted outcome as stored with its idempotency key (the event ids; the store keeps the
// stream, version and last position itself), and back.
std::string encode_outcome(const std::vector<core::event_id>& event_ids);
accepted decode_outcome(const core::command_outcome& stored);
// A refusal stored under its key: the aggregate's encoding of the rejection, wrapped; and the
// aggregate's encoding back out of a stored outcome, when the outcome is a refusal.
std::string encode_refusal(const std::string& rejection);
std::optional<std::string> stored_refusal(const core::command_outcome& stored);

// How the pipeline treats each refusal of the store.
enum class append_refusal { version_conflict, duplicate_idempotency_key, invalid_request };
append_refusal classify(core::errc code);

// Full jitter: a random wait in [0, min(max, first * 2^(attempt - 1))], so that writers that
// collided do not collide again in lockstep.
class backoff {
 public:
  explicit backoff(const pipeline_options& options);
  void wait(int attempt);

 private:
  std::chrono::microseconds first_;
  std::chrono::microseconds max_;
  std::minstd_rand random_;
};

struct claim_taken {
  unique_claim claim;
};

// A release that would have emptied a scope it must keep non-empty.
struct release_refused {
  claim_release release;
};

using claimed_append = std::variant<core::append_success, core::error, claim_taken, release_refused>;

// What an append's events do to unique claims: releases are written first, then claims.
// The aggregate's append effects (stored_aggregate.hpp) run after the events, in the same transaction.
struct claim_changes {
  std::vector<claim_release> releases;
  std::vector<unique_claim> claims;
  std::vector<append_effect> effects;

  bool empty() const { return releases.empty() && claims.empty() && effects.empty(); }
};

// Appends with the claim changes in one transaction on the store's connection. A claim already
// held by another stream, or a refused release, leaves nothing written. Without changes this is
// the store's one-round-trip append, through the options' group commit when there is one.
claimed_append append_with_claims(core::event_store& store, const core::append_request& request,
                                  const claim_changes& changes, const pipeline_options& options);

// True when an append to `from` reaching `to` crosses a multiple of `every`.
bool snapshot_due(core::stream_version from, core::stream_version to, std::int64_t every);

}  // namespace detail

}  // namespace cqrs::commands
