#pragma once

// Builders shared by the product_*_test.cpp files: commands with sensible defaults and states
// reached by folding events, so each test states only what it is about.

#include <cstdint>
#include <string>
#include <vector>

#include "commands/product/product_aggregate.hpp"
#include "core/aggregate.hpp"
#include "schemas/contracts/product/product_commands.hpp"
#include "schemas/contracts/product/product_events.hpp"

namespace cqrs::tests::product {

namespace p = cqrs::commands::product;
namespace s = cqrs::schemas;

inline s::money eur(std::int64_t minor) { return s::money{minor, s::currency_code("EUR")}; }
inline s::quantity units(std::int64_t n) { return s::quantity(n); }
inline s::reservation_id rid(std::string id) { return s::reservation_id(std::move(id)); }

inline s::create_product create(std::string sku = "SKU-1", std::int64_t stock = 10) {
  return s::create_product{s::sku(std::move(sku)), "Teapot", "Holds tea", eur(1999), stock};
}

inline p::product_state fold(const std::vector<s::product_event>& events) {
  return core::fold<p::product_aggregate>(p::product_aggregate::initial_state(), events);
}

// A product created with `stock` units, then the given events.
inline p::product_state product_with(std::int64_t stock, std::vector<s::product_event> then = {}) {
  std::vector<s::product_event> events{s::product_created{s::sku("SKU-1"), "Teapot", "Holds tea", eur(1999), stock}};
  events.insert(events.end(), then.begin(), then.end());
  return fold(events);
}

// The rejection's code; fails the test (via std::bad_variant_access) when the command was accepted.
inline p::errc code_of(const p::product_decision& d) { return d.rejection().code; }

inline s::product_event only_event(const p::product_decision& d) {
  if (!d.accepted() || d.events().size() != 1) throw std::logic_error("expected exactly one event");
  return d.events().front();
}

}  // namespace cqrs::tests::product
