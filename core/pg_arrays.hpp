#pragma once

// PostgreSQL array literals ('{"a","b"}', '{1,2}', '{t,f}') for passing whole columns as one
// parameter (`unnest($1::text[])`): libpqxx 6.4 has no array parameters. Text items are always
// quoted, so commas, braces, spaces and the word NULL stay text.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cqrs::core {

std::string pg_array(const std::vector<std::string>& items);
std::string pg_array(const std::vector<std::int64_t>& numbers);
std::string pg_array(const std::vector<bool>& flags);
// Absent items are NULL elements.
std::string pg_array(const std::vector<std::optional<std::string>>& items);

}  // namespace cqrs::core
