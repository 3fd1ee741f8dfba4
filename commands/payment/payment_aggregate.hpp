#pragma once

// The Payment aggregate, stream category "payment" (`payment-<id>`). The rules are in
// payment_decide.cpp, the folding in payment_state.cpp; this type binds them together for the
// command pipeline (core::aggregate and commands::stored_aggregate). Payments claim no unique
// values. Decide every payment command on the stream as stored (no aggregate cache): the card
// processor's answers must never be applied to a stale state.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/payment/payment_decide.hpp"
#include "commands/payment/payment_errc.hpp"
#include "commands/payment/payment_state.hpp"
#include "commands/unique_claim.hpp"
#include "schemas/contracts/encoded_payload.hpp"
#include "schemas/contracts/payment/payment_codec.hpp"

namespace cqrs::commands::payment {

// The snapshot's stored form: cereal JSON of payment_state.
std::string encode_snapshot(const payment_state& state);
std::optional<payment_state> decode_snapshot(int schema_version, std::string_view data);

struct payment_aggregate {
  using state_type = payment_state;
  using event_type = schemas::payment_event;
  using command_type = schemas::payment_command;
  using rejection_type = rejection;

  static constexpr std::string_view category = "payment";
  static constexpr int snapshot_schema_version = 1;

  static state_type initial_state() { return {}; }
  static state_type evolve(state_type state, const event_type& event) { return payment::evolve(std::move(state), event); }
  static payment_decision decide(const state_type& state, const command_type& command) {
    return payment::decide(state, command);
  }

  static schemas::encoded_payload encode_event(const event_type& event) { return schemas::encode(event); }
  static event_type decode_event(std::string_view type, int version, std::string_view data) {
    return schemas::decode_payment_event(type, version, data);
  }
  static std::string encode_snapshot(const state_type& state) { return payment::encode_snapshot(state); }
  static std::optional<state_type> decode_snapshot(int version, std::string_view data) {
    return payment::decode_snapshot(version, data);
  }
  static schemas::encoded_payload encode_command(const command_type& command) { return schemas::encode(command); }

  static std::vector<unique_claim> claims(const event_type&) { return {}; }
  static rejection claim_refused(const unique_claim& claim);
  // {"code": <errc's stable number>, "detail": "..."}
  static std::string encode_rejection(const rejection& why);
  static std::optional<rejection> decode_rejection(std::string_view text);
};

}  // namespace cqrs::commands::payment
