#pragma once

// The Order aggregate, stream category "order" (`order-<id>`). The rules are in order_decide.cpp,
// the folding in order_state.cpp, the lifecycle in order_lifecycle.cpp; this type binds them
// together for the command pipeline (core::aggregate and commands::stored_aggregate). Orders
// claim no unique values.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/order/order_decide.hpp"
#include "commands/order/order_errc.hpp"
#include "commands/order/order_state.hpp"
#include "commands/unique_claim.hpp"
#include "schemas/contracts/encoded_payload.hpp"
#include "schemas/contracts/order/order_codec.hpp"

namespace cqrs::commands::order {

// The snapshot's stored form: cereal JSON of order_state.
std::string encode_snapshot(const order_state& state);
std::optional<order_state> decode_snapshot(int schema_version, std::string_view data);

struct order_aggregate {
  using state_type = order_state;
  using event_type = schemas::order_event;
  using command_type = schemas::order_command;
  using rejection_type = rejection;

  static constexpr std::string_view category = "order";
  static constexpr int snapshot_schema_version = 1;

  static state_type initial_state() { return {}; }
  static state_type evolve(state_type state, const event_type& event) { return order::evolve(std::move(state), event); }
  static order_decision decide(const state_type& state, const command_type& command) {
    return order::decide(state, command);
  }

  static schemas::encoded_payload encode_event(const event_type& event) { return schemas::encode(event); }
  static event_type decode_event(std::string_view type, int version, std::string_view data) {
    return schemas::decode_order_event(type, version, data);
  }
  static std::string encode_snapshot(const state_type& state) { return order::encode_snapshot(state); }
  static std::optional<state_type> decode_snapshot(int version, std::string_view data) {
    return order::decode_snapshot(version, data);
  }
  static schemas::encoded_payload encode_command(const command_type& command) { return schemas::encode(command); }

  static std::vector<unique_claim> claims(const event_type&) { return {}; }
  static rejection claim_refused(const unique_claim& claim);
  // {"code": <errc's stable number>, "detail": "..."}
  static std::string encode_rejection(const rejection& why);
  static std::optional<rejection> decode_rejection(std::string_view text);
};

}  // namespace cqrs::commands::order
