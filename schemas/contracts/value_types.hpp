#pragma once

// The small value types every domain's contracts are made of (a domain's own ids live in its
// folder). Each is a distinct type, so a quantity cannot
// be passed where a price is expected. They hold any value: whether a value is acceptable is a
// business rule, decided by the aggregate (commands/) with a stable error code.

#include <compare>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>

namespace cqrs::schemas {

template <typename T, typename Tag>
class strong_value {
 public:
  using value_type = T;

  strong_value() = default;
  explicit strong_value(T value) : value_(std::move(value)) {}

  const T& value() const { return value_; }

  friend auto operator<=>(const strong_value&, const strong_value&) = default;
  friend bool operator==(const strong_value&, const strong_value&) = default;

 private:
  T value_{};
};

// Stored as the bare value (`"EUR"`, not `{"value": "SKU-1"}`) so payloads read naturally.
template <typename Archive, typename T, typename Tag>
T save_minimal(const Archive&, const strong_value<T, Tag>& v) {
  return v.value();
}

template <typename Archive, typename T, typename Tag>
void load_minimal(const Archive&, strong_value<T, Tag>& v, const std::type_identity_t<T>& value) {
  // type_identity: T must come from the first argument only, as cereal probes this function
  // with a wrapper type that converts to `const T&` but cannot be deduced from.
  v = strong_value<T, Tag>(value);
}

// ISO 4217 alphabetic code, e.g. "EUR".
using currency_code = strong_value<std::string, struct currency_code_tag>;
// A number of units moved by one command.
using quantity = strong_value<std::int64_t, struct quantity_tag>;

// A price: integer minor units (cents for EUR) so no rounding ever happens, plus the currency.
struct money {
  std::int64_t amount_minor = 0;
  currency_code currency;

  friend bool operator==(const money&, const money&) = default;

  template <typename Archive>
  void serialize(Archive& archive) {
    archive(cereal::make_nvp("amount_minor", amount_minor), cereal::make_nvp("currency", currency));
  }
};

}  // namespace cqrs::schemas
