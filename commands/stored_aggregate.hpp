#pragma once

// What the command pipeline needs of an aggregate beyond core::aggregate: how its events, state
// snapshots and commands are stored, and which unique claims its events make. All static, all
// pure. A new aggregate provides these and runs in the pipeline unchanged.

#include <concepts>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/unique_claim.hpp"
#include "core/aggregate.hpp"
#include "core/ids.hpp"
#include "schemas/contracts/encoded_payload.hpp"

namespace pqxx {
class transaction_base;
}

namespace cqrs::commands {

// A write that must commit with an append or not at all (what a user may still do, for the
// gateways' token checks): run in the append's transaction, after its events.
using append_effect = std::function<void(pqxx::transaction_base&)>;

template <typename A>
concept stored_aggregate =
    core::aggregate<A> &&
    requires(const typename A::event_type& event, const typename A::state_type& state,
             const typename A::command_type& command, const unique_claim& claim, std::string_view text, int version,
             const typename A::rejection_type& rejection) {
      { A::encode_event(event) } -> std::same_as<schemas::encoded_payload>;
      // Reads any registered version of the type (older ones upcast); throws on unknown types.
      { A::decode_event(text, version, text) } -> std::same_as<typename A::event_type>;
      { A::snapshot_schema_version } -> std::convertible_to<int>;
      { A::encode_snapshot(state) } -> std::same_as<std::string>;
      // Nothing for a snapshot version it no longer reads: the pipeline then replays the stream.
      { A::decode_snapshot(version, text) } -> std::same_as<std::optional<typename A::state_type>>;
      // The command's contract form, to recognise a retried command by its idempotency key.
      { A::encode_command(command) } -> std::same_as<schemas::encoded_payload>;
      { A::claims(event) } -> std::same_as<std::vector<unique_claim>>;
      // The rejection when another stream holds the claim.
      { A::claim_refused(claim) } -> std::same_as<typename A::rejection_type>;
      // A rejection as stored under an idempotency key, and back (nothing if unreadable).
      { A::encode_rejection(rejection) } -> std::same_as<std::string>;
      { A::decode_rejection(text) } -> std::same_as<std::optional<typename A::rejection_type>>;
    };

// Optional: an aggregate whose events also release claims (unique_claim.hpp) provides both.
template <typename A>
concept releasing_aggregate =
    stored_aggregate<A> && requires(const typename A::event_type& event, const claim_release& release) {
      { A::releases(event) } -> std::same_as<std::vector<claim_release>>;
      // The rejection when the release would empty a scope it must keep non-empty.
      { A::release_refused(release) } -> std::same_as<typename A::rejection_type>;
    };

// Optional: an aggregate whose events must also write elsewhere in the append's transaction.
// `after` is the state the events lead to; no effects, no extra work (the one-round-trip append).
template <typename A>
concept effecting_aggregate =
    stored_aggregate<A> && requires(const core::stream_id& stream, const typename A::state_type& after,
                                    const std::vector<typename A::event_type>& events) {
      { A::append_effects(stream, after, events) } -> std::same_as<std::vector<append_effect>>;
    };

}  // namespace cqrs::commands
