#pragma once

// Bounds of the Order's command values (checked by decide, refused with a stable errc).

#include <cstddef>
#include <cstdint>

namespace cqrs::commands::order::limits {

inline constexpr std::size_t max_lines = 50;
inline constexpr std::int64_t max_quantity = 10'000;
// 100 million in major units: with max_quantity and max_lines no total can overflow 64 bits.
inline constexpr std::int64_t max_unit_price_minor = 10'000'000'000;
inline constexpr std::size_t max_id_length = 100;          // customer, product, payment, refund ids
inline constexpr std::size_t max_address_field_length = 200;
inline constexpr std::size_t max_card_token_length = 200;
inline constexpr std::size_t max_reason_length = 500;

}  // namespace cqrs::commands::order::limits
