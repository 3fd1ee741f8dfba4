#pragma once

// Bounds of the Product rules. They keep every sum far from int64 overflow (stock and prices are
// added and compared, never multiplied here) and keep stored payloads small.

#include <cstddef>
#include <cstdint>

namespace cqrs::commands::product::limits {

inline constexpr std::int64_t max_quantity = 1'000'000;         // per command
inline constexpr std::int64_t max_on_hand = 1'000'000'000;      // units in stock at any time
inline constexpr std::int64_t max_price_minor = 1'000'000'000'000;
inline constexpr std::size_t max_sku_length = 64;
inline constexpr std::size_t max_name_length = 200;
inline constexpr std::size_t max_description_length = 4'000;
inline constexpr std::size_t max_reason_length = 500;
inline constexpr std::size_t max_reservation_id_length = 64;

}  // namespace cqrs::commands::product::limits
