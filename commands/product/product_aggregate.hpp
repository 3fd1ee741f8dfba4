#pragma once

// The Product aggregate (catalog and inventory), stream category "product". The rules are in
// product_decide.cpp, the folding in product_state.cpp; this type binds them together for the
// command pipeline (core::aggregate and commands::stored_aggregate).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/product/product_decide.hpp"
#include "commands/product/product_errc.hpp"
#include "commands/product/product_state.hpp"
#include "commands/unique_claim.hpp"
#include "schemas/contracts/encoded_payload.hpp"
#include "schemas/contracts/product/product_codec.hpp"

namespace cqrs::commands::product {

// A product's SKU claim, written with its product.created event.
inline constexpr std::string_view sku_claim_scope = "product.sku";

// The snapshot's stored form: cereal JSON of product_state. Bump when product_state changes
// shape; older snapshots are then ignored and the stream is replayed (and snapshotted anew).
std::string encode_snapshot(const product_state& state);
std::optional<product_state> decode_snapshot(int schema_version, std::string_view data);

struct product_aggregate {
  using state_type = product_state;
  using event_type = schemas::product_event;
  using command_type = schemas::product_command;
  using rejection_type = rejection;

  static constexpr std::string_view category = "product";
  static constexpr int snapshot_schema_version = 1;

  static state_type initial_state() { return {}; }
  static state_type evolve(state_type state, const event_type& event) { return product::evolve(std::move(state), event); }
  static product_decision decide(const state_type& state, const command_type& command) {
    return product::decide(state, command);
  }

  static schemas::encoded_payload encode_event(const event_type& event) { return schemas::encode(event); }
  static event_type decode_event(std::string_view type, int version, std::string_view data) {
    return schemas::decode_product_event(type, version, data);
  }
  static std::string encode_snapshot(const state_type& state) { return product::encode_snapshot(state); }
  static std::optional<state_type> decode_snapshot(int version, std::string_view data) {
    return product::decode_snapshot(version, data);
  }
  static schemas::encoded_payload encode_command(const command_type& command) { return schemas::encode(command); }

  static std::vector<unique_claim> claims(const event_type& event);
  static rejection claim_refused(const unique_claim& claim);
  // {"code": <errc's stable number>, "detail": "..."}
  static std::string encode_rejection(const rejection& why);
  static std::optional<rejection> decode_rejection(std::string_view text);
};

}  // namespace cqrs::commands::product
